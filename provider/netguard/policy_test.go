package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

func TestBlockReason(t *testing.T) {
	loop8 := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		addr    string
		allowed []netip.Prefix
		blocked bool
		reason  string // substring of the reason when blocked
	}{
		// IPv4
		{addr: "8.8.8.8"},
		{addr: "1.1.1.1"},
		{addr: "93.184.216.34"},
		{addr: "127.0.0.1", blocked: true, reason: "loopback"},
		{addr: "127.255.255.254", blocked: true, reason: "loopback"},
		{addr: "10.1.2.3", blocked: true, reason: "RFC 1918"},
		{addr: "172.16.0.1", blocked: true, reason: "RFC 1918"},
		{addr: "172.31.255.255", blocked: true, reason: "RFC 1918"},
		{addr: "172.32.0.1"},
		{addr: "192.168.1.1", blocked: true, reason: "RFC 1918"},
		{addr: "100.64.0.1", blocked: true, reason: "carrier-grade NAT"},
		{addr: "100.127.255.255", blocked: true, reason: "carrier-grade NAT"},
		{addr: "100.128.0.1"},
		{addr: "169.254.169.254", blocked: true, reason: "metadata"},
		{addr: "169.254.1.1", blocked: true, reason: "link-local"},
		{addr: "0.0.0.0", blocked: true, reason: "this network"},
		{addr: "0.1.2.3", blocked: true, reason: "this network"},
		{addr: "224.0.0.1", blocked: true, reason: "multicast"},
		{addr: "239.255.255.250", blocked: true, reason: "multicast"},
		{addr: "255.255.255.255", blocked: true, reason: "broadcast"},
		{addr: "240.0.0.1", blocked: true, reason: "reserved"},
		{addr: "192.0.2.10", blocked: true, reason: "documentation"},
		{addr: "198.51.100.7", blocked: true, reason: "documentation"},
		{addr: "203.0.113.9", blocked: true, reason: "documentation"},
		{addr: "198.18.0.1", blocked: true, reason: "benchmarking"},
		{addr: "198.19.255.255", blocked: true, reason: "benchmarking"},
		{addr: "192.0.0.170", blocked: true, reason: "IETF"},
		{addr: "192.88.99.1", blocked: true, reason: "6to4 relay"},
		// operator opt-in
		{addr: "127.0.0.1", allowed: loop8},
		{addr: "127.0.0.2", allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}},
		{addr: "127.0.0.1", allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, blocked: true, reason: "loopback"},
		{addr: "10.0.0.1", allowed: loop8, blocked: true, reason: "RFC 1918"},
		{addr: "::ffff:127.0.0.1", allowed: loop8},
		{addr: "::1", allowed: []netip.Prefix{netip.MustParsePrefix("::1/128")}},
		{addr: "::1", allowed: loop8, blocked: true, reason: "loopback"},
		// IPv6 native forms
		{addr: "2606:4700:4700::1111"},
		{addr: "2a00:1450:4001:80b::200e"},
		{addr: "::1", blocked: true, reason: "loopback"},
		{addr: "::", blocked: true, reason: "unspecified"},
		{addr: "fe80::1", blocked: true, reason: "link-local"},
		{addr: "fe80::1%eth0", blocked: true, reason: "link-local"},
		{addr: "febf:ffff::1", blocked: true, reason: "link-local"},
		{addr: "fec0::1", blocked: true, reason: "site-local"},
		{addr: "fc00::1", blocked: true, reason: "unique local"},
		{addr: "fd12:3456:789a::1", blocked: true, reason: "unique local"},
		{addr: "ff02::1", blocked: true, reason: "multicast"},
		{addr: "ff05::1:3", blocked: true, reason: "multicast"},
		{addr: "100::1", blocked: true, reason: "discard"},
		{addr: "2001:db8::1", blocked: true, reason: "documentation"},
		{addr: "3fff::1", blocked: true, reason: "documentation"},
		{addr: "2001::1", blocked: true, reason: "Teredo"},
		{addr: "2001:2::1", blocked: true, reason: "benchmarking"},
		{addr: "2001:10::1", blocked: true, reason: "ORCHID"},
		{addr: "2001:20::1", blocked: true, reason: "ORCHIDv2"},
		{addr: "4000::1", blocked: true, reason: "global unicast"},
		// IPv4 inside IPv6
		{addr: "::ffff:127.0.0.1", blocked: true, reason: "IPv4-mapped IPv6 of loopback"},
		{addr: "::ffff:7f00:1", blocked: true, reason: "IPv4-mapped IPv6 of loopback"},
		{addr: "::ffff:10.0.0.1", blocked: true, reason: "RFC 1918"},
		{addr: "::ffff:169.254.169.254", blocked: true, reason: "metadata"},
		{addr: "::ffff:0.0.0.0", blocked: true, reason: "this network"},
		{addr: "::ffff:8.8.8.8"},
		{addr: "::127.0.0.1", blocked: true, reason: "IPv4-compatible"},
		{addr: "::7f00:1", blocked: true, reason: "IPv4-compatible"},
		{addr: "::8.8.8.8", blocked: true, reason: "IPv4-compatible"},
		{addr: "::ffff:0:7f00:1", blocked: true, reason: "IPv4-translated"},
		{addr: "64:ff9b::7f00:1", blocked: true, reason: "NAT64 of loopback"},
		{addr: "64:ff9b::127.0.0.1", blocked: true, reason: "NAT64 of loopback"},
		{addr: "64:ff9b::a9fe:a9fe", blocked: true, reason: "NAT64 of cloud metadata"},
		{addr: "64:ff9b::c0a8:101", blocked: true, reason: "NAT64 of private"},
		{addr: "64:ff9b::808:808"},
		{addr: "64:ff9b:1::a00:1", blocked: true, reason: "local-use NAT64"},
		{addr: "2002:7f00:1::1", blocked: true, reason: "6to4 of loopback"},
		{addr: "2002:a9fe:a9fe::", blocked: true, reason: "6to4 of cloud metadata"},
		{addr: "2002:c0a8:0101::1", blocked: true, reason: "6to4 of private"},
		{addr: "2002:0a00:0001::1", blocked: true, reason: "6to4 of private"},
		{addr: "2002:808:808::1"},
	}
	for _, tt := range tests {
		name := tt.addr
		if tt.allowed != nil {
			name += " allowed " + tt.allowed[0].String()
		}
		t.Run(name, func(t *testing.T) {
			got := blockReason(netip.MustParseAddr(tt.addr), tt.allowed)
			if (got != "") != tt.blocked {
				t.Fatalf("blockReason(%s) = %q, want blocked=%v", tt.addr, got, tt.blocked)
			}
			if tt.blocked && !strings.Contains(got, tt.reason) {
				t.Errorf("blockReason(%s) = %q, want it to mention %q", tt.addr, got, tt.reason)
			}
		})
	}
}

func TestParseRanges(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "127.0.0.0/8, ::1/128", want: []string{"127.0.0.0/8", "::1/128"}},
		{in: "127.0.0.1", want: []string{"127.0.0.1/32"}},
		{in: "::1", want: []string{"::1/128"}},
		{in: "10.0.0.0/8,,192.168.1.5/24,", want: []string{"10.0.0.0/8", "192.168.1.0/24"}},
		{in: "127.0.0.0/8, localhost", wantErr: `allowed range 2 "localhost"`},
		{in: "10.0.0.0/33", wantErr: `allowed range 1 "10.0.0.0/33"`},
		{in: "fe80::1%eth0", wantErr: "zones are not supported"},
		{in: "127.0.0.0/8;10.0.0.0/8", wantErr: `allowed range 1 "127.0.0.0/8;10.0.0.0/8"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRanges(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRanges(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRanges(%q): %v", tt.in, err)
			}
			var gotS []string
			for _, p := range got {
				gotS = append(gotS, p.String())
			}
			if strings.Join(gotS, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ParseRanges(%q) = %v, want %v", tt.in, gotS, tt.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	c := New(Options{})
	tests := []struct {
		raw     string
		blocked bool // want a *BlockedError
		invalid bool // want a *fault.ValidationError
	}{
		{raw: "https://mastodon.example/.well-known/nodeinfo"},
		{raw: "http://example.com:8080/x?y=1#z"},
		{raw: "HTTPS://Example.COM/"},
		{raw: "https://93.184.216.34/"},
		{raw: "https://[2606:4700:4700::1111]/"},
		{raw: "https://localhost/"}, // a name: judged when dialled
		{raw: "https://example.com:1/"},
		{raw: "https://example.com:65535/"},
		{raw: "", invalid: true},
		{raw: "ftp://example.com/", invalid: true},
		{raw: "file:///etc/passwd", invalid: true},
		{raw: "gopher://example.com/", invalid: true},
		{raw: "javascript:alert(1)", invalid: true},
		{raw: "http:example.com", invalid: true},
		{raw: "//example.com/", invalid: true},
		{raw: "/relative", invalid: true},
		{raw: "https://", invalid: true},
		{raw: "https://:443/", invalid: true},
		{raw: "https://user:pass@example.com/", invalid: true},
		{raw: "https://user@example.com/", invalid: true},
		{raw: "https://example.com:0/", invalid: true},
		{raw: "https://example.com:70000/", invalid: true},
		{raw: "http://exa mple.com/", invalid: true},
		{raw: "https://" + strings.Repeat("a", maxURLLength) + ".com/", invalid: true},
		{raw: "http://127.1/", invalid: true},
		{raw: "http://2130706433/", invalid: true},
		{raw: "http://0x7f.0.0.1/", invalid: true},
		{raw: "http://0x7f000001/", invalid: true},
		{raw: "http://0177.0.0.1/", invalid: true},
		{raw: "http://127.0.0.1./", invalid: true},
		{raw: "http://127.0.0.1/", blocked: true},
		{raw: "http://127.0.0.1:5432/", blocked: true},
		{raw: "http://10.0.0.1/", blocked: true},
		{raw: "http://169.254.169.254/latest/meta-data/", blocked: true},
		{raw: "http://0.0.0.0:8080/", blocked: true},
		{raw: "http://[::1]/", blocked: true},
		{raw: "http://[::]/", blocked: true},
		{raw: "http://[::ffff:127.0.0.1]/", blocked: true},
		{raw: "http://[::ffff:7f00:1]/", blocked: true},
		{raw: "http://[::127.0.0.1]/", blocked: true},
		{raw: "http://[fe80::1%25eth0]/", blocked: true},
		{raw: "http://[fd00::1]/", blocked: true},
		{raw: "http://[64:ff9b::7f00:1]/", blocked: true},
		{raw: "http://[2002:7f00:1::1]/", blocked: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := c.CheckURL(tt.raw)
			var be *BlockedError
			var ve *fault.ValidationError
			switch {
			case tt.blocked:
				if !errors.As(err, &be) || !errors.Is(err, ErrBlocked) {
					t.Fatalf("CheckURL(%q) = %v, want a *BlockedError", tt.raw, err)
				}
				if !be.Addr.IsValid() || be.Reason == "" {
					t.Errorf("BlockedError lacks details: %+v", be)
				}
			case tt.invalid:
				if !errors.As(err, &ve) || ve.Field != "url" {
					t.Fatalf("CheckURL(%q) = %v, want a *fault.ValidationError for url", tt.raw, err)
				}
			default:
				if err != nil {
					t.Fatalf("CheckURL(%q): %v", tt.raw, err)
				}
				if u == nil || u.Hostname() == "" {
					t.Fatalf("CheckURL(%q) returned %v", tt.raw, u)
				}
			}
		})
	}
}

func TestCheckURLHonoursAllowedRanges(t *testing.T) {
	c := New(Options{AllowedRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if _, err := c.CheckURL("http://127.0.0.1:8080/"); err != nil {
		t.Errorf("allowed loopback: %v", err)
	}
	if _, err := c.CheckURL("http://10.0.0.1/"); !errors.Is(err, ErrBlocked) {
		t.Errorf("10.0.0.1 with only 127/8 allowed: %v, want ErrBlocked", err)
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/", "http://127.0.0.1/", "http://[::ffff:7f00:1]:80/",
		"http://[fe80::1%25eth0]/", "http://0x7f.1/", "http://user@host/", "file:///",
		"http://[::1", "http://%zz/", "https://example.com:99999/", "http://a.b.c.", "http://.",
		"http://[64:ff9b::a9fe:a9fe]/", "https://xn--bcher-kva.example/",
	} {
		f.Add(s)
	}
	c := New(Options{})
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := c.CheckURL(raw)
		if err != nil {
			if u != nil {
				t.Fatalf("CheckURL(%q) returned both a URL and %v", raw, err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("CheckURL(%q) accepted scheme %q", raw, u.Scheme)
		}
		if u.Hostname() == "" || u.User != nil {
			t.Fatalf("CheckURL(%q) accepted host %q user %v", raw, u.Hostname(), u.User)
		}
		if a, perr := netip.ParseAddr(u.Hostname()); perr == nil && blockReason(a, nil) != "" {
			t.Fatalf("CheckURL(%q) accepted blocked address %s", raw, a)
		}
	})
}
