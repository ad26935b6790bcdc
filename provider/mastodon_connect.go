package provider

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/mastodon"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
)

// Purposes of values sealed for the Mastodon connection; each gets its own
// key, so a sealed token cannot be opened as anything else.
const (
	sealMastodonToken  = "mastodon-token"
	sealMastodonSecret = "mastodon-webhook-secret"
	sealMastodonEvent  = "mastodon-event"
)

// What a held sign-up or a flagged post gets on Mastodon.
const (
	// MastodonReport files a spam report, so a moderator decides.
	MastodonReport = "report"
	// MastodonNote adds a moderation note to the account (Mastodon versions
	// with the admin account notes API).
	MastodonNote = "note"
	// MastodonNone does nothing on Mastodon; the check is still recorded.
	MastodonNone = "none"
)

// MastodonSettings say what Breakwater does on a connected Mastodon server.
// The defaults leave every hard decision on posts to a human: a report.
type MastodonSettings struct {
	// DryRun records every action Breakwater would take without calling
	// Mastodon, to compare its decisions with the moderators' first.
	DryRun bool `json:"dryRun"`
	// SignupReview is what a sign-up held for review gets besides staying
	// pending: "report" (default), "note" or "none".
	SignupReview string `json:"signupReview"`
	// PostReject is what a rejected post gets: "report" (default, with the
	// status attached) or an account action "sensitive", "silence" or
	// "suspend".
	PostReject string `json:"postReject"`
	// PostReview is what a post held for review gets: "report" (default)
	// or "none".
	PostReview string `json:"postReview"`
}

func (m *MastodonSettings) normalise() error {
	def := func(p *string) {
		*p = strings.ToLower(strings.TrimSpace(*p))
		if *p == "" {
			*p = MastodonReport
		}
	}
	def(&m.SignupReview)
	def(&m.PostReject)
	def(&m.PostReview)
	switch m.SignupReview {
	case MastodonReport, MastodonNote, MastodonNone:
	default:
		return fault.Invalid("signupReview", "must be report, note or none")
	}
	switch m.PostReject {
	case MastodonReport, mastodon.ActionSensitive, mastodon.ActionSilence, mastodon.ActionSuspend:
	default:
		return fault.Invalid("postReject", "must be report, sensitive, silence or suspend")
	}
	switch m.PostReview {
	case MastodonReport, MastodonNone:
	default:
		return fault.Invalid("postReview", "must be report or none")
	}
	return nil
}

// files reports whether any setting may file a report, which needs the
// write:reports scope.
func (m MastodonSettings) files() bool {
	return m.SignupReview == MastodonReport || m.PostReject == MastodonReport || m.PostReview == MastodonReport
}

// MastodonConnectInput is what an admin gives to connect a Mastodon server.
type MastodonConnectInput struct {
	// APIURL is the server's address, e.g. https://mastodon.example.
	APIURL string
	// Token is an access token of a user whose role may manage users, with
	// the admin:read:accounts and admin:write:accounts scopes (and
	// write:reports when reports are filed).
	Token string
	// WebhookSecret is the secret Mastodon showed for the webhook. Empty
	// keeps the current one, or generates one on a first connection.
	WebhookSecret string
	Settings      MastodonSettings
}

// MastodonSetup is what the admin must configure on Mastodon, and how the
// connection stands.
type MastodonSetup struct {
	ServerID   string `json:"serverId"`
	APIURL     string `json:"apiUrl"`
	WebhookURL string `json:"webhookUrl"`
	// WebhookSecret is only filled by ConnectMastodon, for the admin to copy.
	WebhookSecret string           `json:"webhookSecret,omitempty"`
	Events        []string         `json:"events"`
	Scopes        []string         `json:"scopes,omitempty"`
	Settings      MastodonSettings `json:"settings"`
	State         string           `json:"state"`
	BrokenReason  string           `json:"brokenReason,omitempty"`
	BrokenAt      *time.Time       `json:"brokenAt,omitempty"`
	// Warnings are checks that could not be completed, for the admin to
	// verify by hand.
	Warnings []string `json:"warnings,omitempty"`
}

// MastodonWebhookURL is where a server's Mastodon delivers its webhooks.
func (s *Service) MastodonWebhookURL(serverID string) string {
	return strings.TrimSuffix(s.opts.PublicURL.String(), "/") + "/webhooks/mastodon/" + serverID
}

// AddMastodonServer registers a Mastodon server that uses Breakwater only
// through its admin webhooks and Admin API, without the FASP handshake:
// Mastodon before 4.4, or one run without EXPERIMENTAL_FEATURES=fasp. It
// gets a serverId like any server, and a key pair, with Mastodon's FASP base
// URL on record, so that 'servers rotate-key' can complete a FASP
// registration later if the admin enables it. Until then it cannot sign
// FASP calls; webhooks need no signature.
func (s *Service) AddMastodonServer(ctx context.Context, serverURL string) (*Registration, error) {
	base, err := mastodon.ParseAPIURL(serverURL)
	if err != nil {
		return nil, fault.Invalid("serverUrl", "%s", err.Error())
	}
	if _, err := s.http.CheckURL(base.String()); err != nil {
		return nil, err
	}
	key, priv, err := s.newKeyRow()
	if err != nil {
		return nil, err
	}
	now := s.now()
	srv := &models.Server{
		ID: models.NewID(now), Domain: base.Hostname(), ServerURL: base.String(), BaseURL: base.String() + "/api/fasp",
		Software: "mastodon", Status: models.ServerActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.db.CreateServer(ctx, srv, key); err != nil {
		return nil, fmt.Errorf("store server %s: %w", srv.Domain, err)
	}
	s.opts.Logger.InfoContext(ctx, "mastodon server added without FASP", "server_id", srv.ID, "domain", srv.Domain)
	return &Registration{ServerID: srv.ID, Domain: srv.Domain, BaseURL: srv.BaseURL, Software: srv.Software,
		Fingerprint: Fingerprint(priv.Public().(ed25519.PublicKey))}, nil
}

// ConnectMastodon checks a Mastodon access token with real API calls, stores
// it and the webhook secret sealed, and returns what the admin must set up
// on Mastodon. Connecting again replaces the token and settings (and repairs
// a broken connection) but keeps the webhook secret unless a new one is
// given, so the webhook on Mastodon keeps working.
func (s *Service) ConnectMastodon(ctx context.Context, serverID string, in MastodonConnectInput) (*MastodonSetup, error) {
	if _, err := s.db.GetServer(ctx, serverID); err != nil {
		return nil, dbErr("load server "+serverID, err)
	}
	if err := in.Settings.normalise(); err != nil {
		return nil, err
	}
	token := strings.TrimSpace(in.Token)
	if token == "" || len(token) > 512 || strings.ContainsAny(token, " \t\r\n") {
		return nil, fault.Invalid("token", "must be a Mastodon access token (Preferences → Development → your application)")
	}
	base, err := mastodon.ParseAPIURL(in.APIURL)
	if err != nil {
		return nil, fault.Invalid("apiUrl", "%s", err.Error())
	}
	if _, err := s.http.CheckURL(base.String()); err != nil {
		return nil, err
	}
	client, err := mastodon.NewClient(base.String(), token, s.http)
	if err != nil {
		return nil, fault.Invalid("apiUrl", "%s", err.Error())
	}
	scopes, warnings, err := s.verifyMastodonToken(ctx, client, in.Settings)
	if err != nil {
		return nil, err
	}
	prev, err := s.db.GetMastodonConnection(ctx, serverID)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, fmt.Errorf("load mastodon connection of %s: %w", serverID, err)
	}
	secret := strings.TrimSpace(in.WebhookSecret)
	switch {
	case secret != "":
		if err := mastodon.CheckSecret(secret); err != nil {
			return nil, fault.Invalid("webhookSecret", "%s", strings.TrimPrefix(err.Error(), mastodon.ErrSecretFormat.Error()+": "))
		}
	case prev != nil:
		b, err := s.box.Open(sealMastodonSecret, prev.WebhookSecret)
		if err != nil {
			return nil, fmt.Errorf("open stored webhook secret of %s: %w", serverID, err)
		}
		secret = string(b)
	default:
		secret = mastodon.NewSecret()
	}
	sealedToken, err := s.box.Seal(sealMastodonToken, []byte(token))
	if err != nil {
		return nil, fmt.Errorf("seal access token: %w", err)
	}
	sealedSecret, err := s.box.Seal(sealMastodonSecret, []byte(secret))
	if err != nil {
		return nil, fmt.Errorf("seal webhook secret: %w", err)
	}
	now := s.now()
	row := &models.MastodonConnection{
		ServerID: serverID, APIURL: base.String(), AccessToken: sealedToken, WebhookSecret: sealedSecret,
		Scopes: strings.Join(scopes, " "), DryRun: in.Settings.DryRun, SignupReview: in.Settings.SignupReview,
		PostReject: in.Settings.PostReject, PostReview: in.Settings.PostReview, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.db.SaveMastodonConnection(ctx, row); err != nil {
		return nil, fmt.Errorf("store mastodon connection of %s: %w", serverID, err)
	}
	s.opts.Logger.InfoContext(ctx, "mastodon connected", "server_id", serverID, "api_url", row.APIURL, "dry_run", row.DryRun)
	setup := s.mastodonSetup(row)
	setup.WebhookSecret = secret
	setup.Warnings = warnings
	return setup, nil
}

// verifyMastodonToken proves the token works with two real calls:
// verify_credentials (the token is valid; Mastodon 4.3+ also lists the
// application's scopes) and one page of the admin accounts list (the token
// has admin:read:accounts and its user may manage users). Write scopes can
// only be checked when Mastodon lists them.
func (s *Service) verifyMastodonToken(ctx context.Context, c *mastodon.Client, set MastodonSettings) ([]string, []string, error) {
	app, err := c.VerifyCredentials(ctx)
	if err != nil {
		return nil, nil, mastodonConnectErr(err)
	}
	if err := c.ProbeAdminAccounts(ctx); err != nil {
		if mastodon.StatusOf(err) == http.StatusForbidden {
			return nil, nil, fault.Invalid("token", "Mastodon refused to list accounts with this token (403): it needs the %s scope, and its user a role with the Manage Users permission", mastodon.ScopeAdminReadAccounts)
		}
		return nil, nil, mastodonConnectErr(err)
	}
	want := []string{mastodon.ScopeAdminReadAccounts, mastodon.ScopeAdminWriteAccounts}
	if set.files() {
		want = append(want, mastodon.ScopeWriteReports)
	}
	if !app.ScopesListed {
		return nil, []string{fmt.Sprintf("this Mastodon does not list the token's scopes (it is older than 4.3): make sure the token has %s; a missing one shows as failed actions in 'breakwater mastodon status'", strings.Join(want, " "))}, nil
	}
	var missing []string
	for _, w := range want {
		if !mastodon.Covers(app.Scopes, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		hint := ""
		if slices.Contains(missing, mastodon.ScopeWriteReports) {
			hint = " (write:reports is needed because reports are filed; choose none/account actions to do without)"
		}
		return nil, nil, fault.Invalid("token", "the token lacks the scope(s) %s%s", strings.Join(missing, " "), hint)
	}
	return app.Scopes, nil, nil
}

// mastodonConnectErr turns a failed check of the token into an error the
// admin can act on.
func mastodonConnectErr(err error) error {
	switch st := mastodon.StatusOf(err); {
	case st == http.StatusUnauthorized:
		return fault.Invalid("token", "Mastodon refused this access token (401): it is wrong, revoked or expired")
	case st == http.StatusNotFound:
		return fault.Invalid("apiUrl", "this address does not answer like a Mastodon server (404 on its API)")
	case st != 0:
		return &fault.Upstream{Message: fmt.Sprintf("Mastodon answered HTTP %d while the token was checked; try again", st)}
	case errors.Is(err, netguard.ErrBlocked):
		return fault.Invalid("apiUrl", "%s", err.Error())
	}
	return &fault.Upstream{Message: "the Mastodon server could not be reached", Err: err}
}

// SetMastodonWebhookSecret stores the secret Mastodon generated for the
// webhook (Mastodon's webhook page shows it and has no field to enter one).
func (s *Service) SetMastodonWebhookSecret(ctx context.Context, serverID, secret string) error {
	secret = strings.TrimSpace(secret)
	if err := mastodon.CheckSecret(secret); err != nil {
		return fault.Invalid("webhookSecret", "%s", strings.TrimPrefix(err.Error(), mastodon.ErrSecretFormat.Error()+": "))
	}
	sealed, err := s.box.Seal(sealMastodonSecret, []byte(secret))
	if err != nil {
		return fmt.Errorf("seal webhook secret: %w", err)
	}
	if err := s.db.SetMastodonWebhookSecret(ctx, serverID, sealed, s.now()); err != nil {
		return dbErr("store webhook secret of "+serverID, err)
	}
	return nil
}

// DisconnectMastodon forgets a server's Mastodon token and secret, with its
// queued events and action history. Webhooks for it answer 404 afterwards,
// which makes Mastodon stop retrying them.
func (s *Service) DisconnectMastodon(ctx context.Context, serverID string) error {
	if err := s.db.DeleteMastodonConnection(ctx, serverID); err != nil {
		return dbErr("disconnect mastodon of "+serverID, err)
	}
	s.opts.Logger.InfoContext(ctx, "mastodon disconnected", "server_id", serverID)
	return nil
}

// MastodonActionInfo is one recorded action, for the admin.
type MastodonActionInfo struct {
	Kind       string     `json:"kind"`
	AccountID  string     `json:"accountId"`
	StatusIDs  []string   `json:"statusIds,omitempty"`
	CheckID    string     `json:"checkId,omitempty"`
	State      string     `json:"state"`
	Attempts   int        `json:"attempts"`
	HTTPStatus int        `json:"httpStatus,omitempty"`
	Error      string     `json:"error,omitempty"`
	ReportID   string     `json:"reportId,omitempty"`
	Feedback   string     `json:"feedback,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	DoneAt     *time.Time `json:"doneAt,omitempty"`
}

// MastodonStatus is a connection with its queue, for `breakwater mastodon
// status` and the admin pages.
type MastodonStatus struct {
	MastodonSetup
	Events        map[string]int64     `json:"events"`
	Actions       map[string]int64     `json:"actions"`
	LastEventAt   *time.Time           `json:"lastEventAt,omitempty"`
	RecentActions []MastodonActionInfo `json:"recentActions"`
}

// MastodonStatus shows a server's connection: settings, whether it is
// broken and why, queue counts and the latest actions.
func (s *Service) MastodonStatus(ctx context.Context, serverID string) (*MastodonStatus, error) {
	row, err := s.db.GetMastodonConnection(ctx, serverID)
	if err != nil {
		return nil, dbErr("load mastodon connection of "+serverID, err)
	}
	st, err := s.db.MastodonQueueStats(ctx, serverID)
	if err != nil {
		return nil, fmt.Errorf("mastodon queue of %s: %w", serverID, err)
	}
	recent, err := s.db.RecentMastodonActions(ctx, serverID, 20)
	if err != nil {
		return nil, fmt.Errorf("mastodon actions of %s: %w", serverID, err)
	}
	out := &MastodonStatus{MastodonSetup: *s.mastodonSetup(row), Events: st.Events, Actions: st.Actions,
		LastEventAt: st.LastEventAt, RecentActions: []MastodonActionInfo{}}
	for _, a := range recent {
		info := MastodonActionInfo{Kind: a.Kind, AccountID: a.AccountID, CheckID: a.CheckID, State: a.State,
			Attempts: a.Attempts, HTTPStatus: a.HTTPStatus, Error: a.LastError, ReportID: a.ResultID,
			Feedback: a.Feedback, CreatedAt: a.CreatedAt, DoneAt: a.DoneAt}
		if a.StatusIDs != "" {
			info.StatusIDs = strings.Split(a.StatusIDs, ",")
		}
		out.RecentActions = append(out.RecentActions, info)
	}
	return out, nil
}

func (s *Service) mastodonSetup(row *models.MastodonConnection) *MastodonSetup {
	setup := &MastodonSetup{
		ServerID: row.ServerID, APIURL: row.APIURL, WebhookURL: s.MastodonWebhookURL(row.ServerID),
		Events: mastodon.HandledEvents(), State: row.State, BrokenReason: row.BrokenReason, BrokenAt: row.BrokenAt,
		Settings: MastodonSettings{DryRun: row.DryRun, SignupReview: row.SignupReview, PostReject: row.PostReject, PostReview: row.PostReview},
	}
	if row.Scopes != "" {
		setup.Scopes = strings.Fields(row.Scopes)
	}
	return setup
}
