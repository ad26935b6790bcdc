package signals

import (
	"context"
	"strings"
	"unicode"
)

// displayNameMatchesUsername flags display names that repeat the username
// (the Feb 2024 wave's accounts all had display name == username). Many
// people leave it that way too, so it is a small nudge only.
type displayNameMatchesUsername struct{}

var _ Signal = (*displayNameMatchesUsername)(nil)

func init() { Register(&displayNameMatchesUsername{}) }

func (*displayNameMatchesUsername) Info() Info {
	return Info{Code: "display_name_matches_username", Gate: GateSignup, Weight: 10,
		Description: "The display name is the username or a trivial variant (case, look-alike letters, separators)."}
}

// skeleton keeps only letters and digits of an already folded name.
func skeleton(folded string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, folded)
}

func (*displayNameMatchesUsername) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	s := in.Signup
	if s.DisplayNameFold == "" {
		return nil
	}
	u, d := skeleton(s.UsernameFold), skeleton(s.DisplayNameFold)
	if len([]rune(u)) < 3 || u != d {
		return nil
	}
	return []Hit{{Code: "display_name_matches_username", Points: 10, Message: "The display name is the same as the username."}}
}
