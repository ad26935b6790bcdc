package screening

import (
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// Observe replays a persisted check (its Features, the Outcome's At and
// decision) into the windows: at start-up from the check store, or from
// another replica. It records exactly what the original Screen call
// recorded, so decisions after a replay equal decisions without restart
// (while the engine is within its MemoryBudget: past it, evictions are
// sampled, so which keys a rebuilt engine holds may differ).
// The decision is accepted for future use (campaigns); windows count every
// check whatever its decision, so that a wave that is being rejected still
// looks like a wave.
func (e *Engine) Observe(serverID string, f Features, at time.Time, decision string) {
	_ = decision
	e.record(serverID, &f, at)
}

// record adds one check to every window it belongs to.
func (e *Engine) record(serverID string, f *Features, at time.Time) {
	sk := e.serverKey(serverID)
	e.win.add(signals.Key{Kind: signals.KindServerActivity, ID: sk}, at, who{})
	e.win.add(signals.Key{Kind: signals.KindNetActivity}, at, who{})
	switch f.Gate {
	case GateSignup:
		e.win.add(signals.Key{Kind: signals.KindServerSignups, ID: sk}, at, who{})
		e.win.add(signals.Key{Kind: signals.KindNetSignups}, at, who{})
		srv := who{server: sk}
		for _, k := range []struct {
			kind signals.Kind
			id   Key64
		}{
			{signals.KindEmail, f.EmailKey}, {signals.KindEmailDomain, f.EmailDomainKey},
			{signals.KindIP, f.IPKey}, {signals.KindIPPrefix, f.IPPrefixKey}, {signals.KindApp, f.AppKey},
		} {
			if k.id != 0 {
				e.win.add(signals.Key{Kind: k.kind, ID: uint64(k.id)}, at, srv)
			}
		}
		if f.ReasonPrint != 0 {
			e.updateSpread(e.reasons, uint64(f.ReasonPrint), at, uint64(f.AccountKey), sk, false)
		}
	case GateContent:
		acct := uint64(f.AccountKey)
		fresh := time.Duration(f.AuthorAgeSeconds)*time.Second < signals.FreshAge
		m := who{server: sk, account: acct, fresh: fresh}
		if f.Mentions > 0 && acct != 0 {
			e.win.add(signals.Key{Kind: signals.KindAuthorMentionPosts, ID: acct}, at, who{})
		}
		for _, d := range f.LinkDomains {
			e.win.add(signals.Key{Kind: signals.KindLinkDomain, ID: e.linkKey(d)}, at, m)
		}
		if f.TextPrint != 0 {
			e.updateSpread(e.text, uint64(f.TextPrint), at, acct, sk, fresh)
		}
		for _, k := range f.MediaKeys {
			e.win.add(signals.Key{Kind: signals.KindMedia, ID: uint64(k)}, at, m)
		}
		for _, ph := range f.MediaPHashes {
			e.updateSpread(e.media, uint64(ph), at, acct, sk, fresh)
		}
	}
}

func (e *Engine) updateSpread(x *similarity.LSH[spreadRec], fp uint64, at time.Time, account, server uint64, fresh bool) {
	sec := at.Unix()
	x.Update(fp, at, func(v *spreadRec) {
		if account != 0 {
			v.accounts.add(account, sec, fresh)
		}
		v.servers.add(server, sec, false)
	})
}
