package signals

import (
	"testing"

	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

func TestUsernameShape(t *testing.T) {
	user := func(name string) *Input {
		return signupIn(func(s *SignupFacts) {
			s.Username = name
			s.UsernameFold = similarity.Fold(name)
			s.Shape = similarity.UsernameShape(name)
		})
	}
	cases := []evalCase{
		{name: "random consonants", in: user("xkqzvbtrwm"), points: 35},
		{name: "interleaved", in: user("a8f3k2l9q0"), points: 25},
		{name: "hex", in: user("9f86d081884c7d65"), points: 35},
		{name: "look-alike letters", in: user("pаypal"), points: 30},
	}
	for _, ok := range []string{"alice", "alice_smith", "kenji1987", "mastodonfan", "schwartz", "strengths", "bob", "marie_curie_1867", "nakamura_taro", "jan_kowalski", "christopher", "user12345", "dr_strangelove"} {
		cases = append(cases, evalCase{name: "human " + ok, in: user(ok)})
	}
	runCases(t, "username_shape", cases)
}
