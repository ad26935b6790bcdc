// Package netguard is the only way Breakwater talks to URLs that someone else
// chose: a server's nodeinfo, the FASP base URL given at registration, debug
// callbacks, alert webhooks, the Mastodon API. Any of those may point at the
// operator's own network (loopback, RFC 1918, the cloud metadata endpoint), so
// every connection is checked on the IP address that is actually dialled,
// after DNS resolution, on every redirect, and no proxy is ever used.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxRedirects   = 3
	DefaultUserAgent      = "Breakwater"
)

// ErrBlocked is matched (errors.Is) by every refusal to connect to an address
// outside the public internet, so callers can tell "the target is forbidden"
// apart from "the target is down".
var ErrBlocked = errors.New("netguard: destination blocked")

// ErrTooManyRedirects stops redirect chains, which could otherwise be used to
// keep a worker busy or to walk through many hosts.
var ErrTooManyRedirects = errors.New("netguard: too many redirects")

// BlockedError records which host and address were refused and why, so an
// admin can see that the URL they gave points at a private network.
type BlockedError struct {
	Host   string     // the name from the URL, or the address when dialled directly
	Addr   netip.Addr // the refused address; zero when the URL itself was refused
	Reason string
}

func (e *BlockedError) Error() string {
	if !e.Addr.IsValid() || e.Host == e.Addr.String() {
		return fmt.Sprintf("netguard: %s is blocked: %s", e.Host, e.Reason)
	}
	return fmt.Sprintf("netguard: %s (%s) is blocked: %s", e.Host, e.Addr, e.Reason)
}

// Is makes errors.Is(err, ErrBlocked) true for every *BlockedError.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// Resolver is the part of *net.Resolver netguard uses; tests inject one to
// simulate DNS rebinding.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configures a Client. Zero values mean the defaults above; there is
// deliberately no way to turn the address check off, only to allow extra
// ranges.
type Options struct {
	// AllowedRanges are private ranges the operator explicitly opts into
	// (BREAKWATER_ALLOW_PRIVATE_RANGES), e.g. 127.0.0.0/8 for local testing.
	// Empty by default.
	AllowedRanges []netip.Prefix
	// ConnectTimeout bounds each TCP connect (default 5s).
	ConnectTimeout time.Duration
	// Timeout bounds the whole request including reading the body (default 15s).
	Timeout time.Duration
	// MaxBodyBytes is how much of a response body may be read (default 1 MiB).
	MaxBodyBytes int64
	// MaxRedirects is how many redirects are followed (default 3; negative
	// means none are followed and the redirect response is returned).
	MaxRedirects int
	// UserAgent is sent when the request has none (default "Breakwater").
	UserAgent string
	// Resolver resolves host names (nil means net.DefaultResolver).
	Resolver Resolver
}

// Client is an HTTP client whose every connection goes through the address
// check. It is safe for concurrent use and meant to be shared.
type Client struct {
	allowed      []netip.Prefix
	resolver     Resolver
	dialer       *net.Dialer
	maxBody      int64
	maxRedirects int
	userAgent    string
	hc           *http.Client
}

// New builds a Client from opts, filling in defaults.
func New(opts Options) *Client {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	c := &Client{
		allowed:      append([]netip.Prefix(nil), opts.AllowedRanges...),
		resolver:     opts.Resolver,
		maxBody:      opts.MaxBodyBytes,
		maxRedirects: opts.MaxRedirects,
		userAgent:    opts.UserAgent,
	}
	c.dialer = &net.Dialer{
		Timeout:   opts.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		// Second line of defence: whatever path led here, the socket may
		// only connect to an address that passes the check.
		Control: c.controlSocket,
	}
	transport := &http.Transport{
		Proxy:                  nil, // never honour HTTP(S)_PROXY: a proxy would dial for us, unchecked
		DialContext:            c.dialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    opts.ConnectTimeout,
		ResponseHeaderTimeout:  opts.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c.hc = &http.Client{
		Transport:     &guardedTransport{c: c, next: transport},
		CheckRedirect: c.checkRedirect,
		Timeout:       opts.Timeout,
	}
	return c
}

// HTTPClient returns an *http.Client for libraries that want one. The address
// check, the scheme check on every redirect, the body limit and the
// User-Agent live in its transport, so they apply there too. It is a copy:
// a caller changing its fields cannot weaken the Client shared by others.
func (c *Client) HTTPClient() *http.Client {
	hc := *c.hc
	return &hc
}

// Do sends req. Reading more than MaxBodyBytes of the response body fails with
// ErrBodyTooLarge; a refused destination fails with a *BlockedError.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error would repeat the full URL, query string included,
		// which may carry a token; name the target without it instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch %s: %w", redact(req), err)
	}
	return resp, nil
}

// redact names the request target without query or credentials, which may
// carry tokens, and is safe to log.
func redact(req *http.Request) string {
	if req == nil || req.URL == nil {
		return "request"
	}
	return req.Method + " " + req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath()
}

// guardedTransport applies the per-request rules that must hold even when a
// caller uses HTTPClient directly.
type guardedTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := t.c.checkURL(req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, err
	}
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context()) // a RoundTripper must not modify the caller's request
		req.Header.Set("User-Agent", t.c.userAgent)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, remaining: t.c.maxBody, limit: t.c.maxBody}
	return resp, nil
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.maxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > c.maxRedirects {
		return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, c.maxRedirects)
	}
	// The dial check covers the address; this catches scheme changes
	// (file:, gopher:), credentials in the Location and literal addresses
	// early, with a clear error.
	if _, err := c.checkURL(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", redact(req), err)
	}
	return nil
}

// dialContext resolves host once, checks every address it resolves to, and
// dials only checked addresses, so DNS cannot change between check and
// connect (rebinding).
func (c *Client) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: dial %q: %w", address, err)
	}
	var addrs []netip.Addr
	if ip, perr := netip.ParseAddr(host); perr == nil {
		addrs = []netip.Addr{ip}
	} else {
		lookupNet := "ip"
		switch network {
		case "tcp4":
			lookupNet = "ip4"
		case "tcp6":
			lookupNet = "ip6"
		}
		addrs, err = c.resolver.LookupNetIP(ctx, lookupNet, host)
		if err != nil {
			return nil, fmt.Errorf("netguard: resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("netguard: resolve %s: no addresses", host)
		}
	}
	// Refuse the whole name if any address is private: a name that mixes
	// public and private answers is an attack, not a misconfiguration.
	for _, a := range addrs {
		if reason := blockReason(a, c.allowed); reason != "" {
			return nil, &BlockedError{Host: host, Addr: a.WithZone(""), Reason: reason}
		}
	}
	var firstErr error
	for _, a := range addrs {
		conn, err := c.dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("netguard: connect to %s: %w", host, firstErr)
}

// controlSocket runs just before connect(2) with the final numeric address.
func (c *Client) controlSocket(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: unexpected socket address %q: %w", address, err)
	}
	if reason := blockReason(ap.Addr(), c.allowed); reason != "" {
		a := ap.Addr().WithZone("")
		return &BlockedError{Host: a.String(), Addr: a, Reason: reason}
	}
	return nil
}
