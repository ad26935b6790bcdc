package signals

import (
	"context"
	"time"
)

// ipVelocity counts sign-ups from one address (IPv4 /32, IPv6 /64) across
// ALL servers in 30 minutes; Mastodon's own limit is 5 per 30 minutes per
// server, so a script spreading over servers slips past each of them.
type ipVelocity struct{}

var _ Signal = (*ipVelocity)(nil)

func init() { Register(&ipVelocity{}) }

type velocityParams struct {
	Review int `json:"review" min:"1" max:"100000" desc:"sign-ups in the window above which the check goes to review"`
	Reject int `json:"reject" min:"1" max:"100000" desc:"sign-ups in the window above which the check is rejected"`
}

func (p *velocityParams) Validate() error {
	if p.Reject <= p.Review {
		return &ParamError{Param: "reject", Message: "must be greater than review"}
	}
	return nil
}

func (*ipVelocity) Info() Info {
	return Info{Code: "ip_velocity", Gate: GateSignup, Weight: LevelReview,
		Description: "Sign-ups from the same IPv4 address or IPv6 /64 across all servers in the last 30 minutes.",
		Defaults:    velocityParams{Review: 3, Reject: 5}}
}

func (*ipVelocity) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*velocityParams)
	if in.Signup.IPKey == 0 {
		return nil
	}
	n := st.Count(Key{KindIP, in.Signup.IPKey}, 30*time.Minute)
	what := "the same IP address"
	if in.Signup.IPv6 {
		what = "the same IPv6 /64 network"
	}
	switch {
	case n > p.Reject:
		return []Hit{{Code: "ip_velocity", Points: LevelReject, Message: "A very high number of recent sign-ups came from " + what + "."}}
	case n > p.Review:
		return []Hit{{Code: "ip_velocity", Points: LevelReview, Message: "Many recent sign-ups came from " + what + "."}}
	}
	return nil
}
