package signals

import (
	"context"
	"testing"
	"time"
)

// fakeState is a scripted State: counts ignore the window, which is enough
// to test each signal's thresholds in isolation (the engine's windows have
// their own tests).
type fakeState struct {
	counts   map[Key]int
	baseline map[Key]float64 // absent = no history
	distinct map[Key]map[Set]int
	seen     map[Key]bool
	text     Spread
	reason   Spread
	media    Spread
	mx       MXResult
	logOdds  float64
	ready    bool
}

func newFake() *fakeState {
	return &fakeState{counts: map[Key]int{}, baseline: map[Key]float64{}, distinct: map[Key]map[Set]int{}, seen: map[Key]bool{}}
}

func (f *fakeState) Count(k Key, _ time.Duration) int { return f.counts[k] }
func (f *fakeState) Baseline(k Key, _ BaselineSpec) (float64, bool) {
	b, ok := f.baseline[k]
	return b, ok
}
func (f *fakeState) Distinct(k Key, s Set, _ time.Duration) int { return f.distinct[k][s] }
func (f *fakeState) SeenBetween(k Key, _, _ time.Time) bool     { return f.seen[k] }
func (f *fakeState) NearText(uint64, int, time.Duration) Spread { return f.text }
func (f *fakeState) NearReason(uint64, int, time.Duration) Spread {
	return f.reason
}
func (f *fakeState) NearMedia(_, _ []uint64, _ int, _ time.Duration) Spread { return f.media }
func (f *fakeState) LookupMX(context.Context, string) MXResult              { return f.mx }
func (f *fakeState) Classify([]uint32) (float64, bool)                      { return f.logOdds, f.ready }

func (f *fakeState) setDistinct(k Key, s Set, n int) {
	if f.distinct[k] == nil {
		f.distinct[k] = map[Set]int{}
	}
	f.distinct[k][s] = n
}

var testNow = time.Date(2024, 2, 15, 12, 0, 0, 0, time.UTC)

func signupIn(mod func(*SignupFacts)) *Input {
	sf := &SignupFacts{AccountKey: 1, EmailKey: 2, EmailDomain: "example.org", EmailDomainKey: 3, IPKey: 4, IPPrefixKey: 5, Username: "alice", UsernameFold: "alice"}
	if mod != nil {
		mod(sf)
	}
	return &Input{Gate: GateSignup, ServerID: "s1", ServerKey: 9, Now: testNow, Policy: &PolicyView{}, Lists: &Lists{}, Signup: sf}
}

func contentIn(mod func(*ContentFacts)) *Input {
	cf := &ContentFacts{AuthorKey: 11, AuthorAge: 400 * 24 * time.Hour, Visibility: "public"}
	if mod != nil {
		mod(cf)
	}
	return &Input{Gate: GateContent, ServerID: "s1", ServerKey: 9, Now: testNow, Policy: &PolicyView{}, Lists: &Lists{}, Content: cf}
}

// evalCase is one row of a signal's table test: points is the total the
// signal must return (0 = must not fire).
type evalCase struct {
	name   string
	in     *Input
	st     *fakeState
	params string // JSON params, "" for defaults
	points float64
}

func runCases(t *testing.T, code string, cases []evalCase) {
	t.Helper()
	reg, ok := Lookup(code)
	if !ok {
		t.Fatalf("signal %s not registered", code)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := DecodeParams(code, []byte(c.params))
			if err != nil {
				t.Fatalf("params: %v", err)
			}
			st := c.st
			if st == nil {
				st = newFake()
			}
			hits := reg.Signal.Evaluate(context.Background(), c.in, st, p)
			total := 0.0
			for _, h := range hits {
				if h.Code != code {
					t.Errorf("hit code %q, want %q", h.Code, code)
				}
				if h.Message == "" || len(h.Message) > 500 {
					t.Errorf("bad message %q", h.Message)
				}
				total += h.Points
			}
			if total != c.points {
				t.Errorf("points = %v, want %v (hits %+v)", total, c.points, hits)
			}
		})
	}
}
