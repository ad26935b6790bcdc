package signals

import "context"

// waveMode makes every risk signal count more while a server's admin knows
// a wave is on (Policy.WaveMode): positive points are multiplied, so the
// reasons show the stricter weights, and a weight-0 reason says why.
type waveMode struct{}

var (
	_ Signal   = (*waveMode)(nil)
	_ Adjuster = (*waveMode)(nil)
)

func init() { Register(&waveMode{}) }

type waveModeParams struct {
	Factor float64 `json:"factor" min:"1" max:"3" desc:"multiplier for every positive weight while wave mode is on"`
}

func (*waveMode) Info() Info {
	return Info{Code: "wave_mode", Gate: GateBoth, Weight: 0,
		Description: "While the policy's wave mode is on, every positive weight is multiplied by factor; the reason itself weighs 0.",
		Defaults:    waveModeParams{Factor: 1.5}}
}

// Evaluate does nothing: wave mode acts in Adjust, after the other signals.
func (*waveMode) Evaluate(context.Context, *Input, State, any) []Hit { return nil }

// Adjust scales the positive hits in place and adds the explanation.
func (*waveMode) Adjust(in *Input, hits []WeightedHit, params any) []Hit {
	if in.Policy == nil || !in.Policy.WaveMode {
		return nil
	}
	p := params.(*waveModeParams)
	for i := range hits {
		if hits[i].Points > 0 {
			hits[i].Points *= p.Factor
		}
	}
	return []Hit{{Code: "wave_mode", Points: 0, Message: "Wave mode is on for this server: signals are applied more strictly."}}
}
