package signals

import (
	"testing"

	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

func TestDisplayNameMatchesUsername(t *testing.T) {
	names := func(user, display string) *Input {
		return signupIn(func(s *SignupFacts) {
			s.UsernameFold, s.DisplayNameFold = similarity.Fold(user), similarity.Fold(display)
		})
	}
	runCases(t, "display_name_matches_username", []evalCase{
		{name: "identical", in: names("xkqzvbtrwm", "xkqzvbtrwm"), points: 10},
		{name: "case and separators", in: names("alice_smith", "Alice Smith"), points: 10},
		{name: "look-alike", in: names("admin", "аdmin"), points: 10},
		{name: "different", in: names("alice_smith", "Alice from Lisbon")},
		{name: "empty display name", in: names("alice", "")},
		{name: "too short to mean anything", in: names("al", "Al")},
	})
}
