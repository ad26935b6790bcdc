package screening

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/signals"
)

// MXResolver looks up mail exchangers; *net.Resolver satisfies it. Tests
// and offline deployments pass a fake or nil.
type MXResolver interface {
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
}

// How long MX answers are reused: a wave of 900 sign-ups a minute from one
// provider must not mean 900 DNS queries a minute. Failures are not cached.
const (
	mxFoundTTL   = time.Hour
	mxMissingTTL = 15 * time.Minute
	mxCacheMax   = 100_000
)

type mxEntry struct {
	res   signals.MXResult
	until time.Time
}

type mxCache struct {
	mu sync.Mutex
	m  map[string]mxEntry
}

func (e *Engine) lookupMX(ctx context.Context, domain string) signals.MXResult {
	if e.resolver == nil || domain == "" {
		return signals.MXUnknown
	}
	now := e.now()
	e.mx.mu.Lock()
	if ent, ok := e.mx.m[domain]; ok && now.Before(ent.until) {
		e.mx.mu.Unlock()
		return ent.res
	}
	e.mx.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, e.mxTimeout)
	defer cancel()
	recs, err := e.resolver.LookupMX(ctx, domain)
	res := signals.MXFound
	switch {
	case err != nil:
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound || ctx.Err() != nil {
			return signals.MXUnknown // timeout or failure: never evidence
		}
		res = signals.MXNone
	case len(recs) == 0:
		res = signals.MXNone
	case len(recs) == 1 && (recs[0].Host == "." || recs[0].Host == ""):
		res = signals.MXNone // RFC 7505 null MX: the domain accepts no mail
	}
	ttl := mxFoundTTL
	if res == signals.MXNone {
		ttl = mxMissingTTL
	}
	e.mx.mu.Lock()
	if len(e.mx.m) >= mxCacheMax {
		clear(e.mx.m)
	}
	e.mx.m[domain] = mxEntry{res: res, until: now.Add(ttl)}
	e.mx.mu.Unlock()
	return res
}

func (c *mxCache) prune(now time.Time) {
	c.mu.Lock()
	for d, ent := range c.m {
		if !now.Before(ent.until) {
			delete(c.m, d)
		}
	}
	c.mu.Unlock()
}
