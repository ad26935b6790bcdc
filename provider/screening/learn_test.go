package screening

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

var spamPhrases = []string{
	"guaranteed daily profit with our crypto trading bot, withdraw anytime",
	"claim your free investment bonus today, limited crypto airdrop for members",
	"double your bitcoin in one week with our expert signals group",
	"exclusive crypto presale, guaranteed returns, message me to invest now",
	"earn passive income daily, our trading bot never loses, join now",
}

// labelled screens n posts made from the phrases (with filler words mixed
// in) and returns their outcomes.
func labelled(e *Engine, clk *clock, g *traffic, phrases []string, n int, prefix string) []Outcome {
	var out []Outcome
	for i := range n {
		clk.Advance(30 * time.Second)
		text := fmt.Sprintf("<p>%s %s %s</p>", g.pick(words), phrases[i%len(phrases)], g.pick(words))
		out = append(out, e.ScreenContent(bg, servers[i%3], DefaultPolicy(), post(fmt.Sprintf("%s%d", prefix, i), 400*24*time.Hour, clk.Now(), text)))
	}
	return out
}

func TestClassifierLearnsFromFeedback(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	g := newTraffic(11)
	// A borderline post: a day-old account (20) mentioning two strangers
	// (30), with phrasing close to the spam that will be labelled.
	probeSpam := func() Outcome {
		in := post(fmt.Sprintf("probe%d", g.r.IntN(1e6)), 5*time.Hour, clk.Now(), "<p>guaranteed crypto profit daily, join now</p>", mentions(2, &no))
		return e.ScreenContent(bg, "probe.example", DefaultPolicy(), in)
	}
	probeHam := func() Outcome {
		in := post(fmt.Sprintf("hamprobe%d", g.r.IntN(1e6)), 5*time.Hour, clk.Now(), "<p>"+jaPhrases[2]+" and the river walk this morning with coffee and the dog</p>")
		return e.ScreenContent(bg, "probe.example", DefaultPolicy(), in)
	}
	spamBefore, hamBefore := probeSpam(), probeHam()

	spam := labelled(e, clk, g, spamPhrases, 19, "spammer")
	var ham []Outcome
	for i := range 25 {
		clk.Advance(30 * time.Second)
		ham = append(ham, e.ScreenContent(bg, servers[i%3], DefaultPolicy(), g.ordinaryPost(clk.Now())))
	}
	for _, o := range spam {
		if err := e.Learn(servers[0], o.Features, VerdictSpam, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range ham {
		if err := e.Learn(servers[1], o.Features, VerdictHam, ""); err != nil {
			t.Fatal(err)
		}
	}
	// 19 spam examples: not enough yet.
	if o := probeSpam(); hasCode(o, "classifier") {
		t.Fatalf("classifier spoke with 19 spam examples: %v", codes(o))
	}
	extra := labelled(e, clk, g, spamPhrases, 1, "spammer-extra")
	_ = e.Learn(servers[2], extra[0].Features, VerdictSpam, "")

	spamAfter, hamAfter := probeSpam(), probeHam()
	t.Logf("spam-like probe: %d %v -> %d %v", spamBefore.Score, codes(spamBefore), spamAfter.Score, codes(spamAfter))
	t.Logf("ham-like probe:  %d %v -> %d %v", hamBefore.Score, codes(hamBefore), hamAfter.Score, codes(hamAfter))
	if hasCode(spamAfter, "near_duplicate_text") {
		t.Fatalf("probe must measure the classifier only: %v", codes(spamAfter))
	}
	if spamAfter.Score <= spamBefore.Score || reasonWeight(spamAfter, "classifier") <= 0 || reasonWeight(spamAfter, "classifier") > 30 {
		t.Errorf("spam-labelled phrasing must score higher (classifier capped at 30)")
	}
	if hamAfter.Score >= hamBefore.Score || reasonWeight(hamAfter, "classifier") >= 0 {
		t.Errorf("ham-labelled phrasing must score lower")
	}
	// The classifier alone never rejects.
	in := post("pure", 400*24*time.Hour, clk.Now(), "<p>"+spamPhrases[0]+" "+spamPhrases[1]+" "+spamPhrases[2]+"</p>")
	if o := e.ScreenContent(bg, "probe.example", DefaultPolicy(), in); o.Decision != Allow || reasonWeight(o, "classifier") != 30 {
		t.Errorf("classifier alone: %s %v", o.Decision, codes(o))
	}
}

func TestServerWeightsLearn(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	g := newTraffic(12)
	// This server's members like generated-looking usernames: moderators
	// keep marking such sign-ups as ham. Another server sees no feedback.
	random := func(i int) SignupInput {
		return signup(fmt.Sprintf("xkqzvbtrw%c", 'a'+i%26), fmt.Sprintf("r%d@gmail.com", i), g.ip(), withDisplay(fmt.Sprintf("xkqzvbtrw%c", 'a'+i%26)))
	}
	var outs []Outcome
	for i := range 99 {
		clk.Advance(time.Minute)
		outs = append(outs, e.ScreenSignup(bg, "gamers.example", DefaultPolicy(), random(i)))
	}
	for _, o := range outs {
		if err := e.Learn("gamers.example", o.Features, VerdictHam, ""); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	before := e.ScreenSignup(bg, "gamers.example", DefaultPolicy(), random(1000))
	if reasonWeight(before, "username_shape") != 35 {
		t.Fatalf("99 labels must not change weights: %v", codes(before))
	}
	_ = e.Learn("gamers.example", before.Features, VerdictHam, "")
	after := e.ScreenSignup(bg, "gamers.example", DefaultPolicy(), random(1001))
	other := e.ScreenSignup(bg, "other.example", DefaultPolicy(), random(1002))
	t.Logf("gamers before %v after %v; other server %v", codes(before), codes(after), codes(other))
	if reasonWeight(after, "username_shape") >= 35 || reasonWeight(after, "username_shape") < 35/2 {
		t.Errorf("ham feedback must down-weight username_shape within bounds: %v", codes(after))
	}
	if reasonWeight(other, "username_shape") != 35 {
		t.Errorf("other servers keep their weights: %v", codes(other))
	}

	// Spam feedback up-weights, bounded by 1.5.
	var spam []Outcome
	for i := range 120 {
		clk.Advance(time.Minute)
		spam = append(spam, e.ScreenSignup(bg, "strict.example", DefaultPolicy(), random(i)))
	}
	for _, o := range spam {
		_ = e.Learn("strict.example", o.Features, VerdictSpam, "")
	}
	up := e.ScreenSignup(bg, "strict.example", DefaultPolicy(), random(2000))
	if w := reasonWeight(up, "username_shape"); w <= 35 || w > 53 {
		t.Errorf("spam feedback must up-weight username_shape within bounds: %v", codes(up))
	}
}

func TestLearnVerdictChangesAndExport(t *testing.T) {
	clk := newClock()
	e := newEngine(t, clk)
	g := newTraffic(13)
	spam := labelled(e, clk, g, spamPhrases, 25, "s")
	var ham []Outcome
	for range 25 {
		clk.Advance(time.Minute)
		ham = append(ham, e.ScreenContent(bg, servers[0], DefaultPolicy(), g.ordinaryPost(clk.Now())))
	}
	for _, o := range spam {
		_ = e.Learn(servers[0], o.Features, VerdictSpam, "")
	}
	for _, o := range ham {
		_ = e.Learn(servers[0], o.Features, VerdictHam, "")
	}
	want, err := e.ExportLearning()
	if err != nil {
		t.Fatal(err)
	}
	// A moderator changes their mind twice; the latest verdict wins and the
	// state returns exactly to where it was.
	_ = e.Learn(servers[0], spam[0].Features, VerdictHam, VerdictSpam)
	mid, _ := e.ExportLearning()
	if bytes.Equal(mid, want) {
		t.Fatal("changing a verdict changed nothing")
	}
	_ = e.Learn(servers[0], spam[0].Features, VerdictSpam, VerdictHam)
	_ = e.Learn(servers[0], spam[0].Features, VerdictSpam, VerdictSpam) // repeat: no-op
	got, _ := e.ExportLearning()
	if !bytes.Equal(got, want) {
		t.Fatalf("undo/redo drifted:\n%s\n%s", got, want)
	}
	// Withdrawing and re-applying a label is also exact.
	_ = e.Learn(servers[0], ham[3].Features, "", VerdictHam)
	_ = e.Learn(servers[0], ham[3].Features, VerdictHam, "")
	if got, _ := e.ExportLearning(); !bytes.Equal(got, want) {
		t.Fatal("withdraw/re-apply drifted")
	}

	// Export → import into a fresh engine gives the same decisions.
	e2 := newEngine(t, &clock{t: clk.Now()})
	if err := e2.ImportLearning(want); err != nil {
		t.Fatal(err)
	}
	if again, _ := e2.ExportLearning(); !bytes.Equal(again, want) {
		t.Fatal("export after import differs")
	}
	in := post("probe", 3*time.Hour, clk.Now(), "<p>"+spamPhrases[1]+"</p>")
	o1 := e.ScreenContent(bg, "p.example", DefaultPolicy(), in)
	o2 := e2.ScreenContent(bg, "p.example", DefaultPolicy(), in)
	if reasonWeight(o1, "classifier") == 0 || reasonWeight(o1, "classifier") != reasonWeight(o2, "classifier") {
		t.Fatalf("imported classifier differs: %v vs %v", codes(o1), codes(o2))
	}

	if err := e.ImportLearning([]byte(`{"version":2}`)); err == nil {
		t.Error("unknown version accepted")
	}
	if err := e.ImportLearning([]byte(`{"version":1,"servers":{"x":{"spam":-1,"ham":0}}}`)); err == nil {
		t.Error("negative counts accepted")
	}
	if got, _ := e.ExportLearning(); !bytes.Equal(got, want) {
		t.Error("failed import changed the state")
	}
	var ve *fault.ValidationError
	if err := e.Learn(servers[0], spam[0].Features, "abuse", ""); !errors.As(err, &ve) || ve.Field != "verdict" {
		t.Errorf("bad verdict: %v", err)
	}
}
