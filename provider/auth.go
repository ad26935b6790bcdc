package provider

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// Caller is a server whose request signature has been verified.
type Caller struct {
	ServerID string
	Domain   string
	// Scheme is "rfc9421" or "cavage".
	Scheme string
	// Suspended is set when the operator suspended the server; Authenticate
	// then also returns fault.ErrSuspended, and only a few routes (erasure,
	// provider_info) still serve it.
	Suspended   bool
	cred        credential
	activations map[string]bool
}

// TargetURI rebuilds the @target-uri a server signed: the configured public
// scheme and host (never what a proxy forwarded) plus the raw request URI.
func (s *Service) TargetURI(r *http.Request) string {
	u := s.opts.PublicURL
	return u.Scheme + "://" + u.Host + r.URL.RequestURI()
}

// HasSignature reports whether a request carries any signature at all.
func HasSignature(r *http.Request) bool {
	return r.Header.Get("Signature-Input") != "" || r.Header.Get("Signature") != ""
}

// Authenticate verifies a request's signature (RFC 9421, or draft-cavage for
// older software), its digest, freshness and that it is not a replay, before
// any other work. Failures are *fault.Unauthorized with a stable cause; a
// suspended server gets fault.ErrSuspended after its signature checked out.
func (s *Service) Authenticate(ctx context.Context, r *http.Request, body []byte) (*Caller, error) {
	var loaded *serverCreds
	lookup := func(keyID string) ([]ed25519.PublicKey, error) {
		sc, err := s.loadCreds(ctx, keyID)
		if err != nil {
			return nil, err
		}
		loaded = sc
		keys := make([]ed25519.PublicKey, len(sc.creds))
		for i, c := range sc.creds {
			keys[i] = c.remote
		}
		return keys, nil
	}
	opts := msgsig.VerifyOptions{Now: s.now, MaxAge: s.opts.SignatureMaxAge, MaxSkew: s.opts.SignatureMaxAge}
	var (
		v   *msgsig.Verified
		err error
	)
	if msgsig.IsCavage(r) {
		v, err = msgsig.VerifyCavageRequest(r, body, lookup, opts)
	} else {
		v, err = msgsig.VerifyRequest(r, s.TargetURI(r), body, lookup, opts)
	}
	if err != nil {
		var se *msgsig.Error
		if errors.As(err, &se) {
			return nil, &fault.Unauthorized{Cause: se.Cause, Message: se.Message}
		}
		if errors.Is(err, fault.ErrUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("verify signature: %w", err)
	}
	if loaded == nil || v.KeyIndex < 0 || v.KeyIndex >= len(loaded.creds) {
		return nil, &fault.Unauthorized{Cause: msgsig.CauseUnknownKey, Message: "no key matched"}
	}
	fresh, err := s.sigs.Remember(ctx, v.ReplayKey, v.Created.Add(s.opts.SignatureMaxAge).Add(s.opts.SignatureMaxAge))
	if err != nil {
		return nil, fmt.Errorf("remember signature: %w: %w", fault.ErrUnavailable, err)
	}
	if !fresh {
		return nil, &fault.Unauthorized{Cause: "replayed", Message: "this signature was already used; sign every request anew"}
	}
	c := &Caller{ServerID: loaded.serverID, Domain: loaded.domain, Scheme: v.Scheme, cred: loaded.creds[v.KeyIndex],
		activations: loaded.activations, Suspended: loaded.status == models.ServerSuspended}
	if c.Suspended {
		return c, fault.ErrSuspended
	}
	if !loaded.confirmed {
		if err := s.db.MarkServerConfirmed(ctx, c.ServerID, s.now()); err != nil {
			s.opts.Logger.WarnContext(ctx, "mark server confirmed", "server_id", c.ServerID, "error", err)
		} else {
			s.keys.drop(c.ServerID)
		}
	}
	return c, nil
}

// loadCreds returns a server's usable keys, from cache when fresh.
func (s *Service) loadCreds(ctx context.Context, serverID string) (*serverCreds, error) {
	now := s.now()
	if sc := s.keys.get(serverID, now); sc != nil {
		if len(sc.creds) == 0 {
			return nil, msgsig.ErrUnknownKey
		}
		return sc, nil
	}
	if serverID == "" || len(serverID) > 64 || strings.ContainsAny(serverID, " \t\r\n") {
		return nil, msgsig.ErrUnknownKey
	}
	srv, err := s.db.GetServer(ctx, serverID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, msgsig.ErrUnknownKey
	}
	if err != nil {
		return nil, fmt.Errorf("load server: %w: %w", fault.ErrUnavailable, err)
	}
	rows, err := s.db.UsableKeys(ctx, serverID, now)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w: %w", fault.ErrUnavailable, err)
	}
	acts, err := s.db.Activations(ctx, serverID)
	if err != nil {
		return nil, fmt.Errorf("load activations: %w: %w", fault.ErrUnavailable, err)
	}
	sc := &serverCreds{serverID: srv.ID, status: srv.Status, domain: srv.Domain, loaded: now,
		confirmed: srv.ConfirmedAt != nil, activations: map[string]bool{}}
	for _, a := range acts {
		sc.activations[a.Capability] = true
	}
	for _, k := range rows {
		if k.RemotePublicKey == "" {
			continue
		}
		cred, err := s.openCredential(&k)
		if err != nil {
			s.opts.Logger.ErrorContext(ctx, "unusable server key", "server_id", serverID, "key_id", k.ID, "error", err)
			continue
		}
		sc.creds = append(sc.creds, cred)
	}
	s.keys.put(sc)
	if len(sc.creds) == 0 {
		return nil, msgsig.ErrUnknownKey
	}
	return sc, nil
}

func (s *Service) openCredential(k *models.ServerKey) (credential, error) {
	remote, err := DecodePublicKey(k.RemotePublicKey)
	if err != nil {
		return credential{}, fmt.Errorf("server's public key: %w", err)
	}
	seed, err := s.box.Open(sealPurposeServerKey, k.PrivateKey)
	if err != nil {
		return credential{}, fmt.Errorf("open private key (is BREAKWATER_SECRET_KEY the one that sealed it?): %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return credential{}, fmt.Errorf("private key seed has %d bytes", len(seed))
	}
	return credential{rowID: k.ID, faspID: k.FaspID, remote: remote, private: ed25519.NewKeyFromSeed(seed), publicB64: k.PublicKey}, nil
}

// SignResponse signs a response to an authenticated caller over @status and
// content-digest with the key pair the caller's request matched. Every 2xx
// and 3xx reply must be signed; Mastodon rejects unsigned ones.
func (s *Service) SignResponse(c *Caller, h http.Header, status int, body []byte) {
	msgsig.SignResponse(h, status, body, c.cred.private, s.now())
}

// Allow applies the caller's rate limit (per replica).
func (s *Service) Allow(c *Caller) error {
	if ok, wait := s.limiter.allow(c.ServerID, s.now()); !ok {
		return &fault.RateLimited{Message: "too many requests from this server", RetryAfter: wait}
	}
	return nil
}
