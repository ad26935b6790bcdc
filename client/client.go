// Package client is a small Go client for Breakwater's spam_detection API,
// for fediverse server software (or a script, or a bridge) that wants to
// screen a sign-up or a post before accepting it.
//
// It signs each request the way FASP requires (RFC 9421 over @method,
// @target-uri and content-digest, with created and keyid = the serverId
// Breakwater issued, Ed25519 with the server's private key), verifies the
// signed answer when given Breakwater's public key, and follows the
// specification's rules for an unavailable provider
// (spec/spam_detection/v0.1/README.md, "When the provider cannot answer"):
//
//   - a short timeout per attempt (2 s by default);
//   - one repeat at most, and only when it is safe: after a 429 or 503
//     (waiting the Retry-After, if it is short enough) or when the
//     connection could not even be opened. A timed-out check is never
//     repeated, because Breakwater may have counted it already;
//   - no decision is never a rejection: the Result then carries the
//     client's FailMode decision, "allow" (FailOpen, the default) or
//     "review" (FailClosed: hold for a moderator), with Fallback set, and the
//     error says why. A 4xx answer other than 429 is a bug in the
//     integration and always falls back to "allow".
//
// The package imports nothing of Breakwater's server side beyond the
// signature scheme, so a server can vendor it on its own.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// FailMode is what a check yields when Breakwater gives no decision.
type FailMode int

const (
	// FailOpen lets the sign-up or post through ("allow"): an outage of the
	// provider never locks people out. The default.
	FailOpen FailMode = iota
	// FailClosed holds the sign-up or post for a moderator ("review"), for
	// servers in the middle of a wave. The specification forbids rejecting
	// on "no decision", so "closed" means held, never refused.
	FailClosed
)

func (m FailMode) decision() string {
	if m == FailClosed {
		return Review
	}
	return Allow
}

// Paths of the two checks, relative to Breakwater's base URL.
const (
	SignupPath  = "/spam_detection/v0/signup_screening/checks"
	ContentPath = "/spam_detection/v0/content_screening/checks"
)

// Options configures a Client.
type Options struct {
	// BaseURL is Breakwater's public base URL, exactly as Breakwater is
	// configured (BREAKWATER_PUBLIC_URL): the signature covers the full URL.
	BaseURL string
	// ServerID is the serverId Breakwater issued at registration; it is the
	// signature's keyid.
	ServerID string
	// PrivateKey is the server's Ed25519 key whose public half Breakwater
	// holds (LoadPrivateKey reads it from a file).
	PrivateKey ed25519.PrivateKey
	// ProviderKey is Breakwater's public key for this server. When set,
	// every answer's signature is verified and one that fails counts as no
	// decision. Strongly recommended.
	ProviderKey ed25519.PublicKey
	// FailMode is the decision when there is none (default FailOpen).
	FailMode FailMode
	// Timeout bounds each attempt (default 2 s).
	Timeout time.Duration
	// MaxAttempts bounds attempts per check (default 2: one safe repeat).
	MaxAttempts int
	// MaxRetryWait is the longest Retry-After honoured; a longer one ends
	// the check without a decision (default 5 s).
	MaxRetryWait time.Duration
	// HTTPClient sends requests (default: a client without a global
	// timeout; Timeout applies per attempt).
	HTTPClient *http.Client
	// UserAgent is sent with each request (default "breakwater-client").
	UserAgent string
	// Now is the clock for signatures (default time.Now).
	Now func() time.Time
}

// Client sends checks for one server. It is safe for concurrent use.
type Client struct {
	opts Options
	base string
}

// New validates opts and fills in the defaults.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(opts.BaseURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, errors.New("client: BaseURL must be Breakwater's public URL, like https://breakwater.example")
	}
	if strings.TrimSpace(opts.ServerID) == "" {
		return nil, errors.New("client: ServerID is required")
	}
	if len(opts.PrivateKey) != ed25519.PrivateKeySize {
		return nil, errors.New("client: PrivateKey must be an Ed25519 private key")
	}
	if opts.ProviderKey != nil && len(opts.ProviderKey) != ed25519.PublicKeySize {
		return nil, errors.New("client: ProviderKey must be an Ed25519 public key")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 2
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = 5 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "breakwater-client"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Client{opts: opts, base: strings.TrimSuffix(u.String(), "/")}, nil
}

// APIError is an error answer from Breakwater ({"error","message","field"}).
type APIError struct {
	Status     int
	Code       string `json:"error"`
	Message    string `json:"message"`
	Field      string `json:"field,omitempty"`
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("breakwater answered HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// ErrNoDecision is matched (errors.Is) by every error that left a check
// without Breakwater's decision: the Result then holds the fallback.
var ErrNoDecision = errors.New("breakwater gave no decision")

type noDecision struct{ err error }

func (e *noDecision) Error() string   { return "no decision: " + e.err.Error() }
func (e *noDecision) Unwrap() []error { return []error{ErrNoDecision, e.err} }

// CheckSignup screens a sign-up. The Result is never nil: when err is not
// nil it is the fallback decision, so the caller may act on
// res.Decision either way and log err.
func (c *Client) CheckSignup(ctx context.Context, in SignupCheck) (*Result, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return c.fallback(false), &noDecision{fmt.Errorf("encode sign-up: %w", err)}
	}
	return c.Send(ctx, SignupPath, body)
}

// CheckContent screens a post; see CheckSignup.
func (c *Client) CheckContent(ctx context.Context, in ContentCheck) (*Result, error) {
	if in.Post.Mentions == nil {
		in.Post.Mentions = []Mention{}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return c.fallback(false), &noDecision{fmt.Errorf("encode post: %w", err)}
	}
	return c.Send(ctx, ContentPath, body)
}

// Send posts an already-encoded check body to path (SignupPath or
// ContentPath); see CheckSignup.
func (c *Client) Send(ctx context.Context, path string, body []byte) (*Result, error) {
	var lastErr error
	for attempt := 1; attempt <= c.opts.MaxAttempts; attempt++ {
		res, retry, err := c.attempt(ctx, path, body)
		if err == nil {
			return res, nil
		}
		lastErr = err
		var ae *APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
			// The integration sent something wrong: log it and fail open.
			return c.fallback(true), &noDecision{err}
		}
		if retry < 0 || attempt == c.opts.MaxAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return c.fallback(false), &noDecision{ctx.Err()}
		case <-time.After(retry):
		}
	}
	return c.fallback(false), &noDecision{lastErr}
}

func (c *Client) fallback(forceOpen bool) *Result {
	d := c.opts.FailMode.decision()
	if forceOpen {
		d = Allow
	}
	return &Result{Decision: d, Reasons: []Reason{}, Fallback: true}
}

// attempt sends the check once. retry is how long to wait before a repeat
// is safe, or negative when it is not.
func (c *Client) attempt(ctx context.Context, path string, body []byte) (*Result, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, -1, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if err := msgsig.SignRequest(req, body, c.opts.ServerID, c.opts.PrivateKey, c.opts.Now()); err != nil {
		return nil, -1, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" && ctx.Err() == nil {
			return nil, 0, fmt.Errorf("connect to breakwater: %w", err) // never reached it: safe to repeat
		}
		return nil, -1, fmt.Errorf("send check: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, -1, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, ae)
		retry := time.Duration(-1)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			ae.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
			if ae.RetryAfter <= c.opts.MaxRetryWait {
				retry = ae.RetryAfter
			}
		}
		return nil, retry, ae
	}
	if c.opts.ProviderKey != nil {
		if err := msgsig.VerifyResponse(resp.StatusCode, resp.Header, data, c.opts.ProviderKey, c.opts.Now(), 0); err != nil {
			return nil, -1, fmt.Errorf("the answer's signature does not verify: %w", err)
		}
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, -1, fmt.Errorf("decode answer: %w", err)
	}
	switch res.Decision {
	case Allow, Review, Reject:
	default:
		return nil, -1, fmt.Errorf("the answer has no known decision (%q)", res.Decision)
	}
	if res.Reasons == nil {
		res.Reasons = []Reason{}
	}
	return &res, 0, nil
}

func retryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
