package signals

import (
	"context"
	"slices"
)

// campaign applies what the whole network has learned: a check whose
// fingerprints (near-duplicate text, the same image, a campaign's link
// domain, a scripted sign-up pattern) match an active network-wide
// campaign gets strong points and carries the campaign's id, so the wave is
// rejected on every server, including servers that have not seen one spam
// post yet. Posts of accounts older than FreshAge get fewer points (someone
// quoting the spam to warn others). As an adjuster it also explains bursts
// away: while a known sign-up campaign is hitting a server, sign-ups there
// that do not match it lose part of the burst signals' points, so honest
// people are not held just because a script is busy (peers.md §9.2).
type campaign struct{}

var (
	_ Signal   = (*campaign)(nil)
	_ Adjuster = (*campaign)(nil)
)

func init() { Register(&campaign{}) }

type campaignParams struct {
	Points                int     `json:"points" min:"0" max:"100" desc:"points for a post by an account younger than a week that matches an active campaign"`
	ConfirmedPoints       int     `json:"confirmedPoints" min:"0" max:"100" desc:"the same, for a campaign the operator or several servers' moderators confirmed"`
	EstablishedPoints     int     `json:"establishedPoints" min:"0" max:"100" desc:"points for a post by an older account that matches an active campaign"`
	SignupPoints          int     `json:"signupPoints" min:"0" max:"100" desc:"points for a sign-up that matches an active sign-up campaign"`
	ConfirmedSignupPoints int     `json:"confirmedSignupPoints" min:"0" max:"100" desc:"the same, for a confirmed sign-up campaign"`
	BurstFactor           float64 `json:"burstFactor" min:"0" max:"1" desc:"multiplier for the sign-up burst signals of a sign-up that matches no campaign while a sign-up campaign is hitting this server (1 turns this off)"`
}

func (p *campaignParams) Validate() error {
	if p.ConfirmedPoints < p.Points {
		return &ParamError{Param: "confirmedPoints", Message: "must be at least points"}
	}
	if p.ConfirmedSignupPoints < p.SignupPoints {
		return &ParamError{Param: "confirmedSignupPoints", Message: "must be at least signupPoints"}
	}
	return nil
}

// burstCodes are the sign-up signals that a campaign's burst sets off for
// everyone signing up at the same time.
var burstCodes = []string{"server_signup_burst", "email_provider_burst", "application_burst"}

func (*campaign) Info() Info {
	return Info{Code: "campaign", Gate: GateBoth, Weight: 70,
		Description: "The sign-up or post matches a spam campaign the provider currently sees across the network; sign-ups that do not match a campaign that explains this server's burst count the burst less.",
		Defaults: campaignParams{Points: 70, ConfirmedPoints: 90, EstablishedPoints: 30, SignupPoints: 45, ConfirmedSignupPoints: 65,
			BurstFactor: 0.5}}
}

func (*campaign) Evaluate(_ context.Context, in *Input, _ State, params any) []Hit {
	if in.Campaigns == nil {
		return nil
	}
	p := params.(*campaignParams)
	q := CampaignQuery{Gate: in.Gate, At: in.Now}
	switch {
	case in.Signup != nil:
		if q.Signup = in.Signup.Pattern; q.Signup == 0 {
			return nil
		}
	case in.Content != nil:
		c := in.Content
		q.Text, q.Media, q.PHashes = c.Fingerprint, c.MediaKeys, c.PHashes
		for _, d := range c.LinkDomains {
			if _, allowed := in.Policy.AllowDomains.Match(d); !allowed {
				q.Links = append(q.Links, d)
			}
		}
	default:
		return nil
	}
	m, ok := in.Campaigns.MatchCampaign(q)
	if !ok {
		return nil
	}
	h := Hit{Code: "campaign", CampaignID: m.ID}
	switch {
	case in.Signup != nil:
		h.Points = float64(pick(m.Confirmed, p.ConfirmedSignupPoints, p.SignupPoints))
		h.Message = "Matches a spam sign-up campaign the provider currently sees on many servers."
	case in.Content.AuthorAge < FreshAge:
		h.Points = float64(pick(m.Confirmed, p.ConfirmedPoints, p.Points))
		h.Message = "Matches a spam campaign the provider currently sees on many servers."
	default:
		h.Points = float64(p.EstablishedPoints)
		h.Message = "Matches a spam campaign the provider currently sees on many servers, though the account is not new."
	}
	if m.Confirmed {
		h.Message = "Matches a confirmed spam campaign the provider currently sees on many servers."
	}
	return []Hit{h}
}

func pick(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}

// Adjust lowers the burst signals of a sign-up that matches no campaign
// while a known sign-up campaign explains this server's burst.
func (*campaign) Adjust(in *Input, hits []WeightedHit, params any) []Hit {
	p := params.(*campaignParams)
	if in.Campaigns == nil || in.Signup == nil || p.BurstFactor >= 1 {
		return nil
	}
	if slices.ContainsFunc(hits, func(h WeightedHit) bool { return h.Code == "campaign" }) {
		return nil
	}
	if !slices.ContainsFunc(hits, func(h WeightedHit) bool { return slices.Contains(burstCodes, h.Code) && h.Points > 0 }) {
		return nil
	}
	if _, ok := in.Campaigns.BurstCampaign(in.ServerID, in.Now); !ok {
		return nil
	}
	for i := range hits {
		if slices.Contains(burstCodes, hits[i].Code) && hits[i].Points > 0 {
			hits[i].Points *= p.BurstFactor
			hits[i].Message += " Most of it is a known spam campaign, which this sign-up does not match."
		}
	}
	return nil
}
