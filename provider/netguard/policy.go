package netguard

import (
	"net/netip"
)

// rangeRule names one address range that is never a legitimate destination
// for a fetch on behalf of a remote party.
type rangeRule struct {
	prefix netip.Prefix
	reason string
}

// blockedV4 lists the IPv4 ranges that are not reachable public unicast
// (IANA special-purpose registry). Order matters only for the reason shown:
// the first match wins, so narrow ranges come before the ranges containing
// them. It is read-only.
var blockedV4 = []rangeRule{
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" (0.0.0.0/8)`},
	{netip.MustParsePrefix("10.0.0.0/8"), "private network (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.169.254/32"), "cloud metadata endpoint (link-local)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private network (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private network (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
}

// IPv6 is judged the other way round: only global unicast (2000::/3) and the
// NAT64 prefixes are ever reachable, and within them some ranges are still
// refused. Everything else (::1, ::, fe80::/10, fc00::/7, ff00::/8, the
// deprecated IPv4-compatible ::/96, fec0::/10, 100::/64, the local-use NAT64
// 64:ff9b:1::/48 …) is blocked with
// the reason from namedV6 or a generic one.
var (
	globalUnicastV6 = netip.MustParsePrefix("2000::/3")
	// nat64WellKnown translates its last 32 bits to an IPv4 destination, so
	// the embedded address is judged as IPv4 (RFC 6052).
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	// blockedGlobalV6 are parts of 2000::/3 that are still not a public host.
	blockedGlobalV6 = []rangeRule{
		{netip.MustParsePrefix("2001::/32"), "Teredo tunnel (embeds an obfuscated IPv4 address)"},
		{netip.MustParsePrefix("2001:2::/48"), "benchmarking (RFC 5180)"},
		{netip.MustParsePrefix("2001:10::/28"), "ORCHID (deprecated)"},
		{netip.MustParsePrefix("2001:20::/28"), "ORCHIDv2"},
		{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
		{netip.MustParsePrefix("3fff::/20"), "documentation (RFC 9637)"},
	}
	// namedV6 only gives better reasons for ranges outside 2000::/3.
	namedV6 = []rangeRule{
		{netip.MustParsePrefix("::/128"), "unspecified address"},
		{netip.MustParsePrefix("::1/128"), "loopback"},
		{netip.MustParsePrefix("::/96"), "IPv4-compatible IPv6 (deprecated)"},
		{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated IPv6"},
		{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 (RFC 8215)"},
		{netip.MustParsePrefix("100::/64"), "discard-only"},
		{netip.MustParsePrefix("fc00::/7"), "unique local address"},
		{netip.MustParsePrefix("fe80::/10"), "link-local"},
		{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
		{netip.MustParsePrefix("ff00::/8"), "multicast"},
	}
)

// blockReason says why addr must not be dialled, or "" when it may be. An
// address inside one of the allowed prefixes is always fine: that is the
// operator's explicit opt-in (for example 127.0.0.0/8 in a local test setup).
func blockReason(addr netip.Addr, allowed []netip.Prefix) string {
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return "invalid address"
	}
	unmapped := addr.Unmap()
	for _, p := range allowed {
		if p.Contains(addr) || p.Contains(unmapped) {
			return ""
		}
	}
	if unmapped.Is4() {
		// Covers ::ffff:a.b.c.d too: the kernel dials those as IPv4.
		if r := reasonV4(unmapped); r != "" {
			if addr.Is4In6() {
				return "IPv4-mapped IPv6 of " + r
			}
			return r
		}
		return ""
	}
	return reasonV6(addr)
}

func reasonV4(a netip.Addr) string {
	for _, r := range blockedV4 {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

func reasonV6(a netip.Addr) string {
	if nat64WellKnown.Contains(a) {
		if r := reasonV4(last32(a)); r != "" {
			return "NAT64 of " + r
		}
		return ""
	}
	if !globalUnicastV6.Contains(a) {
		for _, r := range namedV6 {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		return "not IPv6 global unicast"
	}
	if sixToFour.Contains(a) {
		b := a.As16()
		if r := reasonV4(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); r != "" {
			return "6to4 of " + r
		}
		return ""
	}
	for _, r := range blockedGlobalV6 {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

func last32(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
}
