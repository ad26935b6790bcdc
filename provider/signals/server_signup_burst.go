package signals

import (
	"context"
	"time"
)

// serverSignupBurst compares this server's sign-ups in the last 10 minutes
// with its own usual rate at this time of day (May 2023: 3 a minute was
// normal on mastodon.social, 900 a minute was not). It only ever sends to
// review: honest people sign up during a wave too.
type serverSignupBurst struct{}

var _ Signal = (*serverSignupBurst)(nil)

func init() { Register(&serverSignupBurst{}) }

type serverSignupBurstParams struct {
	MinCount  int     `json:"minCount" min:"1" max:"100000" desc:"sign-ups in 10 minutes below which there is never a burst"`
	Factor    float64 `json:"factor" min:"2" max:"1000" desc:"how many times the usual 10-minute rate for this time of day must be exceeded"`
	ColdStart int     `json:"coldStart" min:"1" max:"100000" desc:"10-minute count that counts as a burst while the server has under an hour of history"`
}

func (*serverSignupBurst) Info() Info {
	return Info{Code: "server_signup_burst", Gate: GateSignup, Weight: LevelReview,
		Description: "This server's sign-ups in the last 10 minutes against max(minCount, factor × its usual rate for the hour of day over the last week).",
		Defaults:    serverSignupBurstParams{MinCount: 5, Factor: 10, ColdStart: 30}}
}

func (*serverSignupBurst) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*serverSignupBurstParams)
	k := Key{KindServerSignups, in.ServerKey}
	w := 10 * time.Minute
	base, ok := st.Baseline(k, BaselineSpec{History: Key{KindServerActivity, in.ServerKey}, Window: w, TimeOfDay: true})
	lvl := burstLevel(st.Count(k, w), base, ok, p.MinCount, p.Factor, p.ColdStart)
	switch {
	case lvl >= 10:
		return []Hit{{Code: "server_signup_burst", Points: 80, Message: "This server is receiving sign-ups many times faster than usual for the time of day."}}
	case lvl > 0:
		return []Hit{{Code: "server_signup_burst", Points: LevelReview, Message: "This server is receiving sign-ups far faster than usual for the time of day."}}
	}
	return nil
}
