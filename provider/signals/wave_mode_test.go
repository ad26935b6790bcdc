package signals

import "testing"

func TestWaveMode(t *testing.T) {
	reg, _ := Lookup("wave_mode")
	adj := reg.Signal.(Adjuster)
	p := MustDefaults("wave_mode")
	hits := []WeightedHit{{Hit: Hit{Code: "a"}, Points: 40}, {Hit: Hit{Code: "invited"}, Points: -25}}

	off := contentIn(nil)
	if extra := adj.Adjust(off, hits, p); extra != nil || hits[0].Points != 40 {
		t.Fatalf("wave mode off changed things: %v %v", extra, hits)
	}
	on := contentIn(nil)
	on.Policy.WaveMode = true
	extra := adj.Adjust(on, hits, p)
	if len(extra) != 1 || extra[0].Code != "wave_mode" || extra[0].Points != 0 {
		t.Fatalf("extra = %+v", extra)
	}
	if hits[0].Points != 60 || hits[1].Points != -25 {
		t.Fatalf("hits = %+v (positive scaled, trust untouched)", hits)
	}
	// Evaluate alone never fires.
	runCases(t, "wave_mode", []evalCase{{name: "evaluate is silent", in: on}})
}
