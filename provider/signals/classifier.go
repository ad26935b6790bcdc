package signals

import (
	"context"
	"math"
)

// classifier asks the network-wide naive Bayes text model trained from
// moderators' spam/ham feedback. It stays silent until the model has
// enough examples of both kinds and only speaks when confident; its points
// are capped so that it can move a borderline post to review but never
// reject on its own, and it lends a little trust to clearly normal text.
type classifier struct{}

var _ Signal = (*classifier)(nil)

func init() { Register(&classifier{}) }

type classifierParams struct {
	Margin    float64 `json:"margin" min:"0.5" max:"50" desc:"log-odds (natural log) beyond which the model is confident"`
	Span      float64 `json:"span" min:"0.5" max:"100" desc:"log-odds beyond the margin at which the points reach their cap"`
	MaxPoints float64 `json:"maxPoints" min:"0" max:"40" desc:"most points for spam-like text"`
	MaxTrust  float64 `json:"maxTrust" min:"0" max:"40" desc:"most points subtracted for clearly normal text"`
}

func (*classifier) Info() Info {
	return Info{Code: "classifier", Gate: GateContent, Weight: 30,
		Description: "The learned text model (naive Bayes over moderators' spam/ham feedback from all servers) is confident the text is spam-like (or clearly not).",
		Defaults:    classifierParams{Margin: 3, Span: 6, MaxPoints: 30, MaxTrust: 15}}
}

func (*classifier) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*classifierParams)
	if len(in.Content.TokenIDs) == 0 {
		return nil
	}
	lo, ready := st.Classify(in.Content.TokenIDs)
	if !ready || math.IsNaN(lo) || math.Abs(lo) <= p.Margin {
		return nil
	}
	strength := math.Min(1, (math.Abs(lo)-p.Margin)/p.Span)
	if lo > 0 {
		pts := math.Max(1, math.Round(p.MaxPoints*strength))
		msg := "The text model rates this text as somewhat spam-like."
		if strength >= 0.5 {
			msg = "The text model rates this text as spam-like."
		}
		return []Hit{{Code: "classifier", Points: pts, Message: msg}}
	}
	pts := math.Round(p.MaxTrust * strength)
	if pts == 0 {
		return nil
	}
	return []Hit{{Code: "classifier", Points: -pts, Message: "The text model rates this text as clearly not spam."}}
}
