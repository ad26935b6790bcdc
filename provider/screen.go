package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// CheckResult is the answer to a screening request.
type CheckResult struct {
	CheckID    string             `json:"checkId"`
	Decision   string             `json:"decision"`
	Score      int                `json:"score"`
	Reasons    []screening.Reason `json:"reasons"`
	CampaignID string             `json:"campaignId,omitempty"`
}

// CheckRecord is a stored check as GET /checks/{id} shows it.
type CheckRecord struct {
	CheckID    string             `json:"checkId"`
	Kind       string             `json:"kind"`
	CreatedAt  time.Time          `json:"createdAt"`
	Decision   string             `json:"decision"`
	Score      int                `json:"score"`
	Reasons    []screening.Reason `json:"reasons"`
	CampaignID string             `json:"campaignId,omitempty"`
	Erased     bool               `json:"erased,omitempty"`
	Feedback   *Feedback          `json:"feedback,omitempty"`
}

// Feedback is a moderator's verdict on a check.
type Feedback struct {
	Verdict   string    `json:"verdict"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// FeedbackInput is the body of POST /spam_detection/v0/feedback.
type FeedbackInput struct {
	CheckID string `json:"checkId"`
	Verdict string `json:"verdict"`
	Note    string `json:"note,omitempty"`
}

// ScreenSignup screens one sign-up for the calling server and stores the
// check before answering.
func (s *Service) ScreenSignup(ctx context.Context, c *Caller, in screening.SignupInput) (*CheckResult, error) {
	if err := s.RequireCapability(ctx, c, CapSignupScreening); err != nil {
		return nil, err
	}
	return s.ScreenSignupFor(ctx, c.ServerID, in)
}

// ScreenContent screens one post for the calling server and stores the check
// before answering.
func (s *Service) ScreenContent(ctx context.Context, c *Caller, in screening.ContentInput) (*CheckResult, error) {
	if err := s.RequireCapability(ctx, c, CapContentScreening); err != nil {
		return nil, err
	}
	return s.ScreenContentFor(ctx, c.ServerID, in)
}

// ScreenSignupFor screens a sign-up for a server already authenticated by
// other means (a verified webhook), through the same engine, policy and
// storage as the FASP API.
func (s *Service) ScreenSignupFor(ctx context.Context, serverID string, in screening.SignupInput) (*CheckResult, error) {
	if err := screening.ValidateSignup(&in); err != nil {
		return nil, err
	}
	subject := s.box.Hash("subject", emailSubject(in.Account.Email))
	return s.screen(ctx, serverID, CapSignupScreening, subject, func(pol screening.Policy) screening.Outcome {
		return s.engine.ScreenSignup(ctx, serverID, pol, in)
	})
}

// ScreenContentFor is ScreenSignupFor for posts.
func (s *Service) ScreenContentFor(ctx context.Context, serverID string, in screening.ContentInput) (*CheckResult, error) {
	if err := screening.ValidateContent(&in); err != nil {
		return nil, err
	}
	subject := s.box.Hash("subject", accountSubject(serverID, in.Author.Acct))
	return s.screen(ctx, serverID, CapContentScreening, subject, func(pol screening.Policy) screening.Outcome {
		return s.engine.ScreenContent(ctx, serverID, pol, in)
	})
}

// screen is the path every validated check takes: the server's policy, its
// quota, the engine, then durable storage before the answer.
func (s *Service) screen(ctx context.Context, serverID, capability, subject string, decide func(screening.Policy) screening.Outcome) (*CheckResult, error) {
	pol, err := s.policy(ctx, serverID)
	if err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, serverID); err != nil {
		return nil, err
	}
	return s.store(ctx, serverID, capability, decide(pol), subject)
}

func (s *Service) store(ctx context.Context, serverID, capability string, out screening.Outcome, subject string) (*CheckResult, error) {
	features, err := json.Marshal(out.Features)
	if err != nil {
		return nil, fmt.Errorf("encode features: %w", err)
	}
	reasons := out.Reasons
	if reasons == nil {
		reasons = []screening.Reason{}
	}
	rjson, err := json.Marshal(reasons)
	if err != nil {
		return nil, fmt.Errorf("encode reasons: %w", err)
	}
	at := out.At
	if at.IsZero() {
		at = s.now()
	}
	row := &models.Check{
		ID: models.NewID(at), ServerID: serverID, Gate: out.Gate, Decision: out.Decision, Score: out.Score,
		Reasons: string(rjson), CampaignID: out.CampaignID, Features: string(features), SubjectKey: subject, CreatedAt: at,
	}
	if err := s.writer.Write(ctx, row); err != nil {
		return nil, fmt.Errorf("store check: %w: %w", fault.ErrUnavailable, err)
	}
	s.announce(row.ID)
	s.usage.add(serverID, capability, at)
	s.observeCampaigns(ctx, row.ID, serverID, &out.Features, at, out.Decision, true) // campaigns.go: count, grow, open
	return &CheckResult{CheckID: row.ID, Decision: out.Decision, Score: out.Score, Reasons: reasons, CampaignID: out.CampaignID}, nil
}

// GetCheck returns one of the caller's checks.
func (s *Service) GetCheck(ctx context.Context, serverID, checkID string) (*CheckRecord, error) {
	if !validID(checkID) {
		return nil, fault.ErrNotFound
	}
	row, err := s.db.GetCheck(ctx, serverID, checkID)
	if err != nil {
		return nil, dbErr("load check", err)
	}
	return checkRecord(row), nil
}

func checkRecord(row *models.Check) *CheckRecord {
	rec := &CheckRecord{CheckID: row.ID, Kind: row.Gate, CreatedAt: row.CreatedAt, Decision: row.Decision, Score: row.Score,
		CampaignID: row.CampaignID, Erased: row.Erased, Reasons: []screening.Reason{}}
	if row.Reasons != "" {
		_ = json.Unmarshal([]byte(row.Reasons), &rec.Reasons)
	}
	if row.Verdict != "" && row.VerdictAt != nil {
		rec.Feedback = &Feedback{Verdict: row.Verdict, Note: row.Note, CreatedAt: *row.VerdictAt}
	}
	return rec
}

// EraseCheck deletes the details of one of the caller's checks (a privacy
// request). Erasing twice is not an error.
func (s *Service) EraseCheck(ctx context.Context, serverID, checkID string) error {
	if !validID(checkID) {
		return fault.ErrNotFound
	}
	if err := s.db.EraseCheck(ctx, serverID, checkID); err != nil {
		return dbErr("erase check", err)
	}
	return nil
}

// EraseEmail erases every check about the account with this e-mail address,
// on every server (operator command for erasure requests). Checks stored
// before a secret-key rotation carry the subject hash under the old key, so
// every configured key's hash is looked for.
func (s *Service) EraseEmail(ctx context.Context, email string) (int64, error) {
	return s.db.EraseSubject(ctx, "", s.box.Hashes("subject", emailSubject(email)))
}

// EraseAccount erases every check about one account of one server, under
// every configured key's subject hash like EraseEmail. A local account may
// have been sent as "alice" or as "alice@<the server's domain>"; both are
// the same person, so both forms are looked for whichever is given.
func (s *Service) EraseAccount(ctx context.Context, serverID, acct string) (int64, error) {
	name := accountName(acct)
	forms := []string{name}
	if srv, err := s.db.GetServer(ctx, serverID); err == nil && srv.Domain != "" {
		domain := strings.ToLower(srv.Domain)
		if local, ok := strings.CutSuffix(name, "@"+domain); ok {
			forms = append(forms, local)
		} else if !strings.Contains(name, "@") {
			forms = append(forms, name+"@"+domain)
		}
	}
	var keys []string
	for _, f := range forms {
		keys = append(keys, s.box.Hashes("subject", accountSubject(serverID, f))...)
	}
	return s.db.EraseSubject(ctx, serverID, keys)
}

// emailSubject and accountSubject are what a check's subject hash is taken
// of; screening and erasure must agree on them exactly.
func emailSubject(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func accountSubject(serverID, acct string) string {
	return strings.ToLower(serverID) + "|" + accountName(acct)
}

// accountName is an acct as subjects compare it: trimmed, without a leading
// "@", lower case.
func accountName(acct string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(acct), "@"))
}

// RecordFeedback stores a moderator's verdict and lets the engine learn from
// it. The latest verdict wins; repeating one changes nothing.
func (s *Service) RecordFeedback(ctx context.Context, serverID string, in FeedbackInput) error {
	in.CheckID = strings.TrimSpace(in.CheckID)
	if !validID(in.CheckID) {
		return fault.Invalid("checkId", "must be a check id returned by a screening call")
	}
	if in.Verdict != "spam" && in.Verdict != "ham" {
		return fault.Invalid("verdict", "must be \"spam\" or \"ham\"")
	}
	if utf8.RuneCountInString(in.Note) > 1000 {
		return fault.Invalid("note", "must be at most 1000 characters")
	}
	row, prev, err := s.db.SetVerdict(ctx, serverID, in.CheckID, in.Verdict, in.Note, s.now())
	if err != nil {
		return dbErr("record feedback", err)
	}
	s.campaignFeedback(ctx, serverID, row, in.Verdict, prev) // campaigns.go: confirmation, ghost ships
	if prev == in.Verdict || row.Erased || row.Features == "" {
		return nil
	}
	var f screening.Features
	if err := json.Unmarshal([]byte(row.Features), &f); err != nil {
		return fmt.Errorf("decode features of check %s: %w", row.ID, err)
	}
	if err := s.engine.Learn(serverID, f, in.Verdict, prev); err != nil {
		// The verdict is stored; learning from it failed (features of an
		// older version). Say so in the log, not to the moderator.
		s.opts.Logger.WarnContext(ctx, "learn from feedback", "server_id", serverID, "check_id", row.ID, "error", err)
		return nil
	}
	s.saveLearningSoon()
	return nil
}

// validID matches the id pattern of the spec: ^[A-Za-z0-9_-]{1,64}$.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// policy returns a server's screening policy, cached briefly.
func (s *Service) policy(ctx context.Context, serverID string) (screening.Policy, error) {
	now := s.now()
	s.policies.mu.Lock()
	e, ok := s.policies.m[serverID]
	s.policies.mu.Unlock()
	if ok && now.Sub(e.loaded) < 10*time.Second {
		return e.p, nil
	}
	srv, err := s.db.GetServer(ctx, serverID)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return screening.Policy{}, fault.ErrNotFound
		}
		return screening.Policy{}, fmt.Errorf("load policy of %s: %w: %w", serverID, fault.ErrUnavailable, err)
	}
	p := screening.DefaultPolicy()
	if srv.Policy != "" {
		if err := json.Unmarshal([]byte(srv.Policy), &p); err != nil {
			return screening.Policy{}, fmt.Errorf("decode policy of %s: %w", serverID, err)
		}
	}
	if p, err = s.engine.ValidatePolicy(p); err != nil {
		// A stored policy was valid when saved; one that no longer is (a
		// signal was removed) falls back to defaults rather than skipping rules silently.
		s.opts.Logger.ErrorContext(ctx, "stored policy invalid, using defaults", "server_id", serverID, "error", err)
		p = screening.DefaultPolicy()
	}
	s.policies.mu.Lock()
	s.policies.m[serverID] = policyEntry{p: p, quota: srv.MonthlyQuota, loaded: now}
	s.policies.mu.Unlock()
	return p, nil
}

// Policy returns a server's policy for editing.
func (s *Service) Policy(ctx context.Context, serverID string) (screening.Policy, error) {
	return s.policy(ctx, serverID)
}

// SetPolicy validates and stores a server's policy. An invalid policy (a bad
// regular expression, an unknown signal) is refused, never half-applied.
func (s *Service) SetPolicy(ctx context.Context, serverID string, p screening.Policy) (screening.Policy, error) {
	p, err := s.engine.ValidatePolicy(p)
	if err != nil {
		return p, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, err
	}
	if err := s.db.UpdateServerPolicy(ctx, serverID, string(b)); err != nil {
		return p, dbErr("store policy", err)
	}
	s.policies.mu.Lock()
	delete(s.policies.m, serverID)
	s.policies.mu.Unlock()
	return p, nil
}

type policyEntry struct {
	p      screening.Policy
	quota  int64
	loaded time.Time
}

type policyCache struct {
	mu sync.Mutex
	m  map[string]policyEntry
}

// checkQuota refuses checks past the server's monthly quota (from the
// policy cache, which policy() has just filled).
func (s *Service) checkQuota(ctx context.Context, serverID string) error {
	s.policies.mu.Lock()
	quota := s.policies.m[serverID].quota
	s.policies.mu.Unlock()
	if quota <= 0 {
		return nil
	}
	used, err := s.monthUsage(ctx, serverID, s.now())
	if err != nil {
		return fmt.Errorf("read usage: %w: %w", fault.ErrUnavailable, err)
	}
	if used >= quota {
		now := s.now()
		next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		return &fault.RateLimited{Message: "this server has used its monthly quota of checks", RetryAfter: next.Sub(now)}
	}
	return nil
}
