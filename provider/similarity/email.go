package similarity

import "strings"

// CanonicalEmail reduces an address to the mailbox that actually receives
// the mail, so that one person (or one bot) cannot look like many by
// varying it: the address is lower-cased, a "+tag" suffix is removed for
// every provider (as Mastodon's canonical e-mail blocks do), and for Gmail,
// whose servers ignore dots, dots are removed and googlemail.com becomes
// gmail.com. It returns the canonical address and its domain; ok is false
// when the input is not of the form local@domain.
func CanonicalEmail(addr string) (canonical, domain string, ok bool) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", false
	}
	local, domain := addr[:at], strings.TrimSuffix(addr[at+1:], ".")
	if domain == "" {
		return "", "", false
	}
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		domain = "gmail.com"
		if d := strings.ReplaceAll(local, ".", ""); d != "" {
			local = d
		}
	}
	return local + "@" + domain, domain, true
}

// ParentDomains returns domain and each parent domain with at least two
// labels, most specific first: "a.b.example.com" gives "a.b.example.com",
// "b.example.com", "example.com". Block lists match on any of them, as
// Mastodon's e-mail domain blocks do.
func ParentDomains(domain string) []string {
	var out []string
	for {
		out = append(out, domain)
		dot := strings.IndexByte(domain, '.')
		if dot < 0 {
			break
		}
		rest := domain[dot+1:]
		if !strings.Contains(rest, ".") {
			break
		}
		domain = rest
	}
	return out
}
