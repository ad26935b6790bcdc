package signals

import (
	"context"
	"unicode"
)

// reasonEmpty applies only when the server asks for a sign-up reason (the
// field is present): an empty or near-empty answer tells the moderator
// nothing and is what scripts send.
type reasonEmpty struct{}

var _ Signal = (*reasonEmpty)(nil)

func init() { Register(&reasonEmpty{}) }

type reasonEmptyParams struct {
	MinChars int `json:"minChars" min:"1" max:"500" desc:"reasons shorter than this (CJK characters count double) are too short to say anything"`
}

func (*reasonEmpty) Info() Info {
	return Info{Code: "reason_empty", Gate: GateSignup, Weight: 15,
		Description: "The server asks for a sign-up reason and it is empty or very short.",
		Defaults:    reasonEmptyParams{MinChars: 10}}
}

// reasonLength counts characters, CJK ones double: "参加したいです" says as
// much as a 14-letter English phrase.
func reasonLength(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
		case isSpacelessScript(r) || unicode.Is(unicode.Hangul, r):
			n += 2
		default:
			n++
		}
	}
	return n
}

func (*reasonEmpty) Evaluate(_ context.Context, in *Input, _ State, params any) []Hit {
	p := params.(*reasonEmptyParams)
	s := in.Signup
	if !s.ReasonPresent {
		return nil
	}
	switch n := reasonLength(s.Reason); {
	case n == 0:
		return []Hit{{Code: "reason_empty", Points: 15, Message: "No sign-up reason was given."}}
	case n < p.MinChars:
		return []Hit{{Code: "reason_empty", Points: 10, Message: "The sign-up reason is too short to say anything."}}
	}
	return nil
}
