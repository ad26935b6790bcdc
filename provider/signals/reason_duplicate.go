package signals

import (
	"context"
	"time"
)

// reasonDuplicate flags a sign-up reason that is nearly the same as the
// reasons of other recent sign-ups, on this or other servers: scripts paste
// one text, people do not.
type reasonDuplicate struct{}

var _ Signal = (*reasonDuplicate)(nil)

func init() { Register(&reasonDuplicate{}) }

type reasonDuplicateParams struct {
	MaxDistance int `json:"maxDistance" min:"0" max:"4" desc:"largest SimHash bit difference that counts as the same reason (the index finds every match up to 4)"`
	Accounts    int `json:"accounts" min:"2" max:"31" desc:"sign-ups (this one included) with the same reason in a day that count as duplicates"`
	Many        int `json:"many" min:"2" max:"31" desc:"sign-ups with the same reason in a day that make the signal strong"`
}

func (p *reasonDuplicateParams) Validate() error {
	if p.Many <= p.Accounts {
		return &ParamError{Param: "many", Message: "must be greater than accounts"}
	}
	return nil
}

func (*reasonDuplicate) Info() Info {
	return Info{Code: "reason_duplicate", Gate: GateSignup, Weight: 45,
		Description: "Nearly the same sign-up reason (SimHash) was given in other sign-ups across the network in the last day.",
		Defaults:    reasonDuplicateParams{MaxDistance: 4, Accounts: 3, Many: 10}}
}

func (*reasonDuplicate) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*reasonDuplicateParams)
	if in.Signup.ReasonPrint == 0 {
		return nil
	}
	sp := st.NearReason(in.Signup.ReasonPrint, p.MaxDistance, 24*time.Hour)
	switch {
	case sp.Accounts >= p.Many:
		return []Hit{{Code: "reason_duplicate", Points: 65, Message: "Nearly the same sign-up reason was given in many other recent sign-ups."}}
	case sp.Accounts >= p.Accounts:
		return []Hit{{Code: "reason_duplicate", Points: 45, Message: "Nearly the same sign-up reason was given in other recent sign-ups."}}
	}
	return nil
}
