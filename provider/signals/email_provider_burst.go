package signals

import (
	"context"
	"time"
)

// emailProviderBurst catches the May 2023 shape: thousands of sign-ups with
// addresses at one big provider (Outlook/Hotmail) across the network. It
// compares the provider's network-wide 10-minute count with its own usual
// rate, so steady Gmail traffic, however large, never fires.
type emailProviderBurst struct{}

var _ Signal = (*emailProviderBurst)(nil)

func init() { Register(&emailProviderBurst{}) }

type emailProviderBurstParams struct {
	MinCount  int     `json:"minCount" min:"3" max:"100000" desc:"network-wide sign-ups with the provider in 10 minutes below which there is never a burst"`
	Factor    float64 `json:"factor" min:"2" max:"1000" desc:"how many times its usual 10-minute rate the provider must exceed"`
	ColdStart int     `json:"coldStart" min:"3" max:"100000" desc:"10-minute count that counts as a burst while the network has under an hour of history"`
}

func (*emailProviderBurst) Info() Info {
	return Info{Code: "email_provider_burst", Gate: GateSignup, Weight: 25,
		Description: "Sign-ups with this e-mail domain across the network in the last 10 minutes are far above the domain's usual rate.",
		Defaults:    emailProviderBurstParams{MinCount: 20, Factor: 6, ColdStart: 60}}
}

func (*emailProviderBurst) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*emailProviderBurstParams)
	if in.Signup.EmailDomainKey == 0 {
		return nil
	}
	k := Key{KindEmailDomain, in.Signup.EmailDomainKey}
	w := 10 * time.Minute
	base, ok := st.Baseline(k, BaselineSpec{History: Key{KindNetActivity, 0}, Window: w})
	lvl := burstLevel(st.Count(k, w), base, ok, p.MinCount, p.Factor, p.ColdStart)
	switch {
	case lvl >= 3:
		return []Hit{{Code: "email_provider_burst", Points: 40, Message: "Sign-ups with addresses at this mail provider are far above their usual rate across the network."}}
	case lvl > 0:
		return []Hit{{Code: "email_provider_burst", Points: 25, Message: "Sign-ups with addresses at this mail provider are well above their usual rate across the network."}}
	}
	return nil
}
