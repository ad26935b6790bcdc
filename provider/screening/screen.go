package screening

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
)

// maxReasons is the spec's limit on reasons per check.
const maxReasons = 64

// ScreenSignup screens one sign-up for a server with its policy and records
// it in the network-wide windows (so the next check sees it). in should have
// passed ValidateSignup, and p ValidatePolicy when it was saved; parts of a
// saved policy that no longer validate (a signal changed by an upgrade) fall
// back to defaults rather than stop screening.
func (e *Engine) ScreenSignup(ctx context.Context, serverID string, p Policy, in SignupInput) Outcome {
	now := e.now()
	facts, f := e.signupFacts(serverID, &in)
	e.record(serverID, &f, now)
	return e.decide(ctx, serverID, &p, signals.Input{Gate: GateSignup, Signup: facts}, f, now)
}

// ScreenContent screens one post for a server with its policy and records
// it in the network-wide windows. in should have passed ValidateContent.
func (e *Engine) ScreenContent(ctx context.Context, serverID string, p Policy, in ContentInput) Outcome {
	now := e.now()
	facts, f := e.contentFacts(serverID, &in, now)
	e.record(serverID, &f, now)
	return e.decide(ctx, serverID, &p, signals.Input{Gate: GateContent, Content: facts}, f, now)
}

func gateApplies(signalGate, gate string) bool {
	return signalGate == signals.GateBoth || signalGate == gate
}

// decide runs every enabled signal for the gate, applies the policy's and
// the server's learned multipliers and the adjusters (wave mode), and maps
// the score to a decision. The score is the sum of the reasons' (rounded)
// weights, clamped to 0..100, exactly as the spec defines it.
func (e *Engine) decide(ctx context.Context, serverID string, p *Policy, input signals.Input, f Features, now time.Time) Outcome {
	cp := e.policyFor(serverID, p)
	// The signals' input and state escape (signals are interfaces); one
	// allocation holds both, and st is converted to the interface once:
	// converting a struct value at each signal call allocated every time.
	chk := &struct {
		in signals.Input
		st checkState
	}{in: input, st: checkState{e: e, now: now}}
	in := &chk.in
	var st signals.State = &chk.st
	in.ServerID = serverID
	in.ServerKey = e.serverKey(serverID)
	in.Now = now
	in.Policy = &cp.view
	in.Lists = e.lists
	in.Campaigns = e.campaignLookup()
	learned := e.learn.multipliers(serverID, e)

	var hits []signals.WeightedHit
	for i, r := range e.sigs {
		if !cp.enabled[i] || !gateApplies(r.Info.Gate, in.Gate) {
			continue
		}
		for _, h := range r.Signal.Evaluate(ctx, in, st, cp.params[i]) {
			h.Code = r.Info.Code
			pts := h.Points * cp.weight[i]
			if learned != nil {
				pts *= learned[i]
			}
			hits = append(hits, signals.WeightedHit{Hit: h, Points: pts})
		}
	}
	for _, i := range e.adjusters {
		r := e.sigs[i]
		if !cp.enabled[i] || !gateApplies(r.Info.Gate, in.Gate) {
			continue
		}
		adj := r.Signal.(signals.Adjuster)
		for _, h := range adj.Adjust(in, hits, cp.params[i]) {
			h.Code = r.Info.Code
			hits = append(hits, signals.WeightedHit{Hit: h, Points: h.Points * cp.weight[i]})
		}
	}

	reasons := make([]Reason, 0, len(hits))
	var campaign Reason // the kept reason of the hit that named a campaign
	campaignID := ""
	for _, h := range hits {
		w := int(math.Round(h.Points))
		if w == 0 && h.Hit.Points != 0 {
			continue // weighted down to nothing by the policy
		}
		r := Reason{Code: h.Code, Message: h.Message, Weight: w}
		if h.CampaignID != "" && campaignID == "" {
			campaign, campaignID = r, h.CampaignID
		}
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b Reason) int {
		return cmp.Or(cmp.Compare(b.Weight, a.Weight), cmp.Compare(a.Code, b.Code), cmp.Compare(a.Message, b.Message))
	})
	if len(reasons) > maxReasons {
		reasons = reasons[:maxReasons]
	}
	// campaignId is reported exactly when its reason is (the spec's
	// invariant): a reason weighted to nothing or cut above drops both.
	if campaignID != "" && !slices.Contains(reasons, campaign) {
		campaignID = ""
	}
	f.Campaign = campaignID
	sum := 0
	var fired []string
	for _, r := range reasons {
		sum += r.Weight
		if r.Weight != 0 && !slices.Contains(fired, r.Code) {
			fired = append(fired, r.Code)
		}
	}
	slices.Sort(fired)
	f.Signals = fired
	score := min(100, max(0, sum))
	decision := Allow
	switch {
	case score >= cp.rejectAt:
		decision = Reject
	case score >= cp.reviewAt:
		decision = Review
	}
	return Outcome{Gate: in.Gate, Decision: decision, Score: score, Reasons: reasons, CampaignID: campaignID, Features: f, At: now}
}
