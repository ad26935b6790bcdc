package signals

import (
	"context"
	"time"
)

// ipPrefixVelocity counts sign-ups from one network range (IPv4 /24, IPv6
// /48) across all servers in an hour: rotating addresses inside one
// provider's range defeat per-address limits.
type ipPrefixVelocity struct{}

var _ Signal = (*ipPrefixVelocity)(nil)

func init() { Register(&ipPrefixVelocity{}) }

type prefixVelocityParams struct {
	Review int `json:"review" min:"1" max:"100000" desc:"sign-ups from the range in an hour above which the check goes to review"`
	Strong int `json:"strong" min:"1" max:"100000" desc:"sign-ups from the range in an hour above which the signal weighs more"`
}

func (p *prefixVelocityParams) Validate() error {
	if p.Strong <= p.Review {
		return &ParamError{Param: "strong", Message: "must be greater than review"}
	}
	return nil
}

func (*ipPrefixVelocity) Info() Info {
	return Info{Code: "ip_prefix_velocity", Gate: GateSignup, Weight: LevelReview,
		Description: "Sign-ups from the same IPv4 /24 or IPv6 /48 across all servers in the last hour.",
		Defaults:    prefixVelocityParams{Review: 10, Strong: 30}}
}

func (*ipPrefixVelocity) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*prefixVelocityParams)
	if in.Signup.IPPrefixKey == 0 {
		return nil
	}
	n := st.Count(Key{KindIPPrefix, in.Signup.IPPrefixKey}, time.Hour)
	what := "the same /24 network"
	if in.Signup.IPv6 {
		what = "the same /48 network"
	}
	switch {
	case n > p.Strong:
		return []Hit{{Code: "ip_prefix_velocity", Points: 80, Message: "A very high number of sign-ups came from " + what + " in the last hour."}}
	case n > p.Review:
		return []Hit{{Code: "ip_prefix_velocity", Points: LevelReview, Message: "Many sign-ups came from " + what + " in the last hour."}}
	}
	return nil
}
