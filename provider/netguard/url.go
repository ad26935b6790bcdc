package netguard

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// maxURLLength keeps absurd inputs out of logs and the database.
const maxURLLength = 4096

// CheckURL validates a URL someone else gave us before it is stored or
// fetched: http or https only, a host, no credentials, and, when the host is
// an IP literal, an address that may be dialled. Host names are judged at
// dial time, on the addresses they resolve to then. Failures are a
// *fault.ValidationError (field "url") or a *BlockedError; both messages are
// safe to show to the admin who entered the URL.
func (c *Client) CheckURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fault.Invalid("url", "is required")
	}
	if len(raw) > maxURLLength {
		return nil, fault.Invalid("url", "is longer than %d characters", maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fault.Invalid("url", "is not a valid URL")
	}
	if _, err := c.checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkURL holds the checks that also apply to every redirect target.
func (c *Client) checkURL(u *url.URL) (*url.URL, error) {
	if u == nil {
		return nil, fault.Invalid("url", "is required")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fault.Invalid("url", "must start with http:// or https://")
	}
	if u.Opaque != "" {
		return nil, fault.Invalid("url", "must be an absolute http(s) URL with a host")
	}
	if u.User != nil {
		return nil, fault.Invalid("url", "must not contain a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return nil, fault.Invalid("url", "must have a host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fault.Invalid("url", "has an invalid port")
		}
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if reason := blockReason(addr, c.allowed); reason != "" {
			a := addr.WithZone("")
			return nil, &BlockedError{Host: a.String(), Addr: a, Reason: reason}
		}
		return u, nil
	}
	if looksNumeric(host) {
		// "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1": libraries
		// disagree on what these mean, which is how filters get bypassed.
		return nil, fault.Invalid("url", "host %q is not a valid host name or standard IP address", host)
	}
	return u, nil
}

// looksNumeric reports whether a host that is not a standard IP literal would
// still be read as an IPv4 address by some parser: no real top-level domain is
// all digits or hex-prefixed.
func looksNumeric(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X") {
		return true
	}
	for _, r := range last {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ParseRanges reads the operator's comma-separated opt-in list
// (BREAKWATER_ALLOW_PRIVATE_RANGES), such as "127.0.0.0/8, ::1/128". A bare
// address means just that address. Host bits in a prefix are cleared, so
// "192.168.1.5/24" means 192.168.1.0/24.
func ParseRanges(csv string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, entry := range strings.Split(csv, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if strings.Contains(entry, "%") {
			return nil, fmt.Errorf("allowed range %d %q: zones are not supported", i+1, entry)
		}
		if strings.Contains(entry, "/") {
			p, err := netip.ParsePrefix(entry)
			if err != nil {
				return nil, fmt.Errorf("allowed range %d %q: want an address or CIDR prefix like 127.0.0.0/8: %w", i+1, entry, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(entry)
		if err != nil {
			return nil, fmt.Errorf("allowed range %d %q: want an address or CIDR prefix like 127.0.0.0/8: %w", i+1, entry, err)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
