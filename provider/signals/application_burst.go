package signals

import (
	"context"
	"time"
)

// applicationBurst counts sign-ups through one OAuth client application
// across the network in an hour, against that application's usual rate: in
// May 2023 most bot accounts used the same application credentials.
// Popular apps have a high baseline and do not fire.
type applicationBurst struct{}

var _ Signal = (*applicationBurst)(nil)

func init() { Register(&applicationBurst{}) }

type applicationBurstParams struct {
	MinCount  int     `json:"minCount" min:"2" max:"100000" desc:"sign-ups through one application in an hour below which there is never a burst"`
	Factor    float64 `json:"factor" min:"2" max:"1000" desc:"how many times its usual hourly rate the application must exceed"`
	ColdStart int     `json:"coldStart" min:"2" max:"100000" desc:"hourly count that counts as a burst while the network has under an hour of history"`
}

func (*applicationBurst) Info() Info {
	return Info{Code: "application_burst", Gate: GateSignup, Weight: 40,
		Description: "Sign-ups through the same client application across the network in the last hour, against the application's usual rate.",
		Defaults:    applicationBurstParams{MinCount: 10, Factor: 8, ColdStart: 10}}
}

func (*applicationBurst) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*applicationBurstParams)
	if in.Signup.AppKey == 0 {
		return nil
	}
	k := Key{KindApp, in.Signup.AppKey}
	base, ok := st.Baseline(k, BaselineSpec{History: Key{KindNetActivity, 0}, Window: time.Hour})
	lvl := burstLevel(st.Count(k, time.Hour), base, ok, p.MinCount, p.Factor, p.ColdStart)
	switch {
	case lvl >= 3:
		return []Hit{{Code: "application_burst", Points: 55, Message: "A very high number of sign-ups in the last hour used the same client application."}}
	case lvl > 0:
		return []Hit{{Code: "application_burst", Points: 40, Message: "Many sign-ups in the last hour used the same client application."}}
	}
	return nil
}
