package signals

import (
	"context"
	"math"
)

// usernameShape flags usernames that look generated ("xkqzvbtrwm",
// "a8f3k2l9q0", long hex strings) and names that mix look-alike letters
// from different alphabets ("pаypal" with a Cyrillic а). Each shape cue is
// weak alone, so it needs two cues, and the points stay small.
type usernameShape struct{}

var _ Signal = (*usernameShape)(nil)

func init() { Register(&usernameShape{}) }

type usernameShapeParams struct {
	MinLength     int `json:"minLength" min:"3" max:"64" desc:"usernames shorter than this are not judged for randomness"`
	ConsonantRun  int `json:"consonantRun" min:"3" max:"64" desc:"a run of this many consonants is a cue"`
	DigitRun      int `json:"digitRun" min:"2" max:"64" desc:"a run of this many digits is a cue"`
	Transitions   int `json:"transitions" min:"2" max:"64" desc:"this many switches between letters and digits is a cue"`
	CuesForRandom int `json:"cuesForRandom" min:"1" max:"6" desc:"cues needed before the username counts as random-looking"`
}

func (*usernameShape) Info() Info {
	return Info{Code: "username_shape", Gate: GateSignup, Weight: 25,
		Description: "The username looks generated (consonant runs, few vowels, long digit runs, letter/digit alternation, hex, near-uniform characters) or mixes look-alike letters from different alphabets.",
		Defaults:    usernameShapeParams{MinLength: 6, ConsonantRun: 5, DigitRun: 5, Transitions: 4, CuesForRandom: 2}}
}

// randomCues counts the shape cues of a generated username.
func randomCues(s SignupFacts, p *usernameShapeParams) int {
	sh := s.Shape
	if sh.Runes < p.MinLength {
		return 0
	}
	cues := 0
	// Few vowels and long consonant runs are one cue (they go together);
	// a very long run is a second one.
	if sh.MaxConsonantRun >= p.ConsonantRun || sh.Letters >= 6 && sh.VowelRatio < 0.2 {
		cues++
	}
	if sh.MaxConsonantRun >= p.ConsonantRun+3 {
		cues++
	}
	if sh.MaxDigitRun >= p.DigitRun {
		cues++
	}
	if sh.Transitions >= p.Transitions {
		cues++
	}
	if sh.HexLike {
		cues++
	}
	if sh.Runes >= 10 && sh.Entropy >= math.Log2(float64(sh.Runes))-0.3 {
		cues++
	}
	return cues
}

func (*usernameShape) Evaluate(_ context.Context, in *Input, _ State, params any) []Hit {
	p := params.(*usernameShapeParams)
	var hits []Hit
	cues := randomCues(*in.Signup, p)
	switch {
	case cues >= p.CuesForRandom+1:
		hits = append(hits, Hit{Code: "username_shape", Points: 35, Message: "The username looks machine-generated."})
	case cues >= p.CuesForRandom:
		hits = append(hits, Hit{Code: "username_shape", Points: 25, Message: "The username looks machine-generated."})
	}
	if in.Signup.Shape.MixedScripts || in.Signup.Shape.Confusables {
		hits = append(hits, Hit{Code: "username_shape", Points: 30, Message: "The username mixes look-alike letters from different alphabets."})
	}
	return hits
}
