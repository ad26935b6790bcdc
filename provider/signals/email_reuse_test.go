package signals

import "testing"

func TestEmailReuse(t *testing.T) {
	k := Key{KindEmail, 2}
	st := func(servers, perDay int) *fakeState {
		f := newFake()
		f.setDistinct(k, SetServers, servers)
		f.counts[k] = perDay
		return f
	}
	runCases(t, "email_reuse", []evalCase{
		{name: "first sign-up", in: signupIn(nil), st: st(1, 1)},
		{name: "one other server", in: signupIn(nil), st: st(2, 2), points: 25},
		{name: "three servers", in: signupIn(nil), st: st(3, 3), points: 45},
		{name: "retries on one server", in: signupIn(nil), st: st(1, 3), points: 45},
		{name: "stricter params", in: signupIn(nil), st: st(2, 2), params: `{"servers":3,"manyServers":4}`},
		{name: "no key", in: signupIn(func(s *SignupFacts) { s.EmailKey = 0 }), st: st(5, 5)},
	})
}
