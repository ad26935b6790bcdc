package signals

import "testing"

func TestReasonDuplicate(t *testing.T) {
	in := signupIn(func(s *SignupFacts) { s.ReasonPrint = 0xabc })
	st := func(accounts int) *fakeState {
		f := newFake()
		f.reason = Spread{Accounts: accounts, Servers: 2}
		return f
	}
	runCases(t, "reason_duplicate", []evalCase{
		{name: "unique", in: in, st: st(1)},
		{name: "two", in: in, st: st(2)},
		{name: "three", in: in, st: st(3), points: 45},
		{name: "many", in: in, st: st(12), points: 65},
		{name: "too short to fingerprint", in: signupIn(nil), st: st(12)},
	})
}
