package campaigns

import (
	"errors"
	"fmt"
	"time"
)

// Threshold says when a cluster of checks sharing one fingerprint becomes a
// campaign: within Window, at least Accounts distinct accounts (for posts:
// accounts younger than FreshAge) on at least Servers customer servers, of
// which at least Flagged had their check held or rejected by the engine.
type Threshold struct {
	Window   time.Duration `json:"window"`
	Accounts int           `json:"accounts"`
	Servers  int           `json:"servers"`
	Flagged  int           `json:"flagged"`
}

func (t Threshold) validate(name string) error {
	switch {
	case t.Window <= 0 || t.Window > 2*time.Hour:
		return fmt.Errorf("campaigns: %s.window must be within 0..2h", name)
	case t.Accounts < 2 || t.Accounts > maxMembers:
		return fmt.Errorf("campaigns: %s.accounts must be within 2..%d", name, maxMembers)
	case t.Servers < 1 || t.Servers > t.Accounts:
		return fmt.Errorf("campaigns: %s.servers must be within 1..accounts", name)
	case t.Flagged < 0 || t.Flagged > t.Accounts:
		return fmt.Errorf("campaigns: %s.flagged must be within 0..accounts", name)
	}
	return nil
}

// Params are the tunables of campaign detection, sources and the feed. The
// defaults follow ../shared/reference/peers.md §10.
type Params struct {
	// Opening thresholds per kind.
	Text   Threshold `json:"text"`
	Media  Threshold `json:"media"`
	Link   Threshold `json:"link"`
	Signup Threshold `json:"signup"`
	// TextDistance and MediaDistance are the largest SimHash and
	// perceptual-hash bit differences that count as the same text or
	// image (at most 6 and 8: what the candidate indexes guarantee).
	TextDistance  int `json:"textDistance"`
	MediaDistance int `json:"mediaDistance"`
	// FreshAge is the account age below which a post's author counts
	// towards a content campaign (spam waves use new accounts).
	FreshAge time.Duration `json:"freshAge"`
	// Quiet is how long a campaign stays active without a hit.
	Quiet time.Duration `json:"quiet"`
	// MaxEvidence caps each evidence list of a campaign as it grows.
	MaxEvidence int `json:"maxEvidence"`
	// SourceChecks and SourceAccounts: an origin becomes a source of a
	// campaign once it emitted this many of its checks from this many
	// distinct accounts.
	SourceChecks   int `json:"sourceChecks"`
	SourceAccounts int `json:"sourceAccounts"`
	// FeedQuiet is how long after its last campaign traffic an origin
	// stays in the server feed.
	FeedQuiet time.Duration `json:"feedQuiet"`
	// FeedbackServers is how many servers' moderators must send spam
	// verdicts on a campaign's checks to confirm it without the operator.
	FeedbackServers int `json:"feedbackServers"`
	// HalfLife is how fast an origin's reputation score decays.
	HalfLife time.Duration `json:"halfLife"`
	// A customer server is a ghost ship when, within GhostWindow, at least
	// GhostSignups sign-ups were held as part of a burst or a campaign,
	// the burst has lasted GhostGrace, and no moderator of the server sent
	// feedback for GhostNoFeedback.
	GhostSignups    int           `json:"ghostSignups"`
	GhostWindow     time.Duration `json:"ghostWindow"`
	GhostGrace      time.Duration `json:"ghostGrace"`
	GhostNoFeedback time.Duration `json:"ghostNoFeedback"`
	// BurstWindow is how recently a sign-up campaign must have hit a
	// server for it to explain that server's sign-up burst.
	BurstWindow time.Duration `json:"burstWindow"`
}

// DefaultParams are the defaults: the same text from ≥ 3 new accounts on
// ≥ 2 servers within an hour; the same image from ≥ 5 new accounts on ≥ 2
// servers within an hour, 3 of them held (peers.md's 3 fresh accounts is
// the duplicate_media signal's bar; a campaign lasts two weeks, and new users
// do re-upload popular memes); a link domain in held posts of ≥ 5 new accounts on ≥ 2 servers
// within an hour; ≥ 20 sign-ups with one pattern within 10 minutes, half of
// them held. Campaigns expire after 14 quiet days.
func DefaultParams() Params {
	return Params{
		Text:            Threshold{Window: time.Hour, Accounts: 3, Servers: 2, Flagged: 1},
		Media:           Threshold{Window: time.Hour, Accounts: 5, Servers: 2, Flagged: 3},
		Link:            Threshold{Window: time.Hour, Accounts: 5, Servers: 2, Flagged: 3},
		Signup:          Threshold{Window: 10 * time.Minute, Accounts: 20, Servers: 1, Flagged: 10},
		TextDistance:    6,
		MediaDistance:   8,
		FreshAge:        7 * 24 * time.Hour,
		Quiet:           14 * 24 * time.Hour,
		MaxEvidence:     64,
		SourceChecks:    3,
		SourceAccounts:  2,
		FeedQuiet:       24 * time.Hour,
		FeedbackServers: 2,
		HalfLife:        24 * time.Hour,
		GhostSignups:    10,
		GhostWindow:     time.Hour,
		GhostGrace:      30 * time.Minute,
		GhostNoFeedback: 7 * 24 * time.Hour,
		BurstWindow:     10 * time.Minute,
	}
}

// Validate refuses params the tracker cannot honour.
func (p Params) Validate() error {
	var errs []error
	for _, t := range []struct {
		name string
		t    Threshold
	}{{"text", p.Text}, {"media", p.Media}, {"link", p.Link}, {"signup", p.Signup}} {
		if err := t.t.validate(t.name); err != nil {
			errs = append(errs, err)
		}
	}
	if p.TextDistance < 0 || p.TextDistance > 6 {
		errs = append(errs, errors.New("campaigns: textDistance must be within 0..6"))
	}
	if p.MediaDistance < 0 || p.MediaDistance > 8 {
		errs = append(errs, errors.New("campaigns: mediaDistance must be within 0..8"))
	}
	if p.FreshAge <= 0 {
		errs = append(errs, errors.New("campaigns: freshAge must be positive"))
	}
	if p.Quiet < time.Hour {
		errs = append(errs, errors.New("campaigns: quiet must be at least an hour"))
	}
	if p.MaxEvidence < 1 || p.MaxEvidence > 1024 {
		errs = append(errs, errors.New("campaigns: maxEvidence must be within 1..1024"))
	}
	if p.SourceChecks < 1 || p.SourceAccounts < 1 || p.SourceAccounts > maxMembers {
		errs = append(errs, errors.New("campaigns: sourceChecks and sourceAccounts must be positive"))
	}
	if p.FeedQuiet <= 0 || p.HalfLife <= 0 || p.BurstWindow <= 0 {
		errs = append(errs, errors.New("campaigns: feedQuiet, halfLife and burstWindow must be positive"))
	}
	if p.FeedbackServers < 1 {
		errs = append(errs, errors.New("campaigns: feedbackServers must be at least 1"))
	}
	if p.GhostSignups < 1 || p.GhostWindow <= 0 || p.GhostGrace < 0 || p.GhostNoFeedback <= 0 {
		errs = append(errs, errors.New("campaigns: ghost-ship params must be positive"))
	}
	return errors.Join(errs...)
}

func (p *Params) threshold(k Kind) Threshold {
	switch k {
	case KindText:
		return p.Text
	case KindMedia:
		return p.Media
	case KindLink:
		return p.Link
	}
	return p.Signup
}
