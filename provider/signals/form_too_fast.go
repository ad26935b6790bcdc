package signals

import "context"

// formTooFast flags forms submitted faster than a person can fill them in
// (Mastodon refuses under 3 seconds). Absent timing is never held against
// a sign-up: API sign-ups have no form.
type formTooFast struct{}

var _ Signal = (*formTooFast)(nil)

func init() { Register(&formTooFast{}) }

type formTooFastParams struct {
	Seconds       float64 `json:"seconds" min:"0.1" max:"60" desc:"forms submitted faster than this go to review"`
	RejectSeconds float64 `json:"rejectSeconds" min:"0" max:"60" desc:"forms submitted faster than this are rejected"`
}

func (p *formTooFastParams) Validate() error {
	if p.RejectSeconds > p.Seconds {
		return &ParamError{Param: "rejectSeconds", Message: "must not exceed seconds"}
	}
	return nil
}

func (*formTooFast) Info() Info {
	return Info{Code: "form_too_fast", Gate: GateSignup, Weight: LevelReview,
		Description: "The sign-up form was submitted only seconds after it was served.",
		Defaults:    formTooFastParams{Seconds: 3, RejectSeconds: 1}}
}

func (*formTooFast) Evaluate(_ context.Context, in *Input, _ State, params any) []Hit {
	p := params.(*formTooFastParams)
	fs := in.Signup.FormSeconds
	if fs == nil {
		return nil
	}
	switch {
	case *fs < p.RejectSeconds:
		return []Hit{{Code: "form_too_fast", Points: LevelReject, Message: "The form was submitted far faster than a person can fill it in."}}
	case *fs < p.Seconds:
		return []Hit{{Code: "form_too_fast", Points: LevelReview, Message: "The form was submitted faster than a person can fill it in."}}
	}
	return nil
}
