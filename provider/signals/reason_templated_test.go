package signals

import (
	"testing"

	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

func TestReasonTemplated(t *testing.T) {
	reason := func(r string) *Input {
		return signupIn(func(s *SignupFacts) {
			s.ReasonPresent = true
			s.Reason = similarity.Normalize(r)
			s.ReasonTokens = similarity.Tokenize(s.Reason)
			s.UsernameFold = "kenji_t"
		})
	}
	runCases(t, "reason_templated", []evalCase{
		{name: "filler", in: reason("I want to join!"), points: 20},
		{name: "filler japanese", in: reason("よろしくお願いします。"), points: 20},
		{name: "no words", in: reason("!!!! ??? 🚀🚀"), points: 20},
		{name: "repeated word", in: reason("join join join join join join"), points: 20},
		{name: "the username", in: reason("Kenji T"), points: 20},
		{name: "real reason", in: reason("I run a small bakery in Malmö and want to follow local food people.")},
		{name: "real japanese", in: reason("東京でパン屋を営んでいて、地元の人と交流したいです")},
		{name: "not asked", in: signupIn(nil)},
	})
}
