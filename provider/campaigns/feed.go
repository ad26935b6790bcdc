package campaigns

import (
	"cmp"
	"encoding/csv"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// Severities of the server feed, with Mastodon's domain block meaning.
const (
	SeveritySilence = "silence"
	SeveritySuspend = "suspend"
)

// unmanagedSpan is how long a remote origin must keep emitting a campaign
// before it counts as unmanaged (a customer server is judged by its
// moderators' feedback instead).
const unmanagedSpan = 24 * time.Hour

// maxComment is the spec's limit on a feed entry's comment.
const maxComment = 500

// FeedEntry is one origin server in the feed: GET
// /spam_detection/v0/servers and the public CSV.
type FeedEntry struct {
	Domain    string    `json:"domain"`
	Severity  string    `json:"severity"`
	Campaigns []string  `json:"campaigns"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Comment   string    `json:"comment"`
}

// Feed lists the origins currently emitting at least one confirmed, active
// campaign: origins that became a source of it and emitted it within
// FeedQuiet. The severity is silence, and suspend only when the operator
// confirmed one of its campaigns and the origin is unmanaged (a ghost ship,
// or a remote server that kept emitting for a day): a suspension is never
// suggested on automatic evidence alone. Origins whose name is not a
// public host name (an IP address) are left out.
func (t *Tracker) Feed(now time.Time) []FeedEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	type agg struct {
		FeedEntry
		labels  []string
		suspend bool
	}
	byDomain := map[string]*agg{}
	ids := make([]string, 0, len(t.camps))
	for id := range t.camps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		x := t.camps[id]
		if !x.c.ActiveAt(now, t.p.Quiet) || !x.confirmed(t.p.FeedbackServers) {
			continue
		}
		for _, op := range x.origins {
			if !op.Source || now.Sub(op.LastSeen) > t.p.FeedQuiet {
				continue
			}
			domain, ok := FeedDomain(op.Key)
			if !ok {
				continue
			}
			a := byDomain[domain]
			if a == nil {
				a = &agg{FeedEntry: FeedEntry{Domain: domain, FirstSeen: op.FirstSeen, LastSeen: op.LastSeen}}
				byDomain[domain] = a
			}
			a.Campaigns = append(a.Campaigns, x.c.ID)
			a.labels = append(a.labels, x.c.Label)
			if op.FirstSeen.Before(a.FirstSeen) {
				a.FirstSeen = op.FirstSeen
			}
			if op.LastSeen.After(a.LastSeen) {
				a.LastSeen = op.LastSeen
			}
			if x.c.OperatorConfirmed() && t.unmanaged(op, now) {
				a.suspend = true
			}
		}
	}
	out := make([]FeedEntry, 0, len(byDomain))
	for _, a := range byDomain {
		e := a.FeedEntry
		e.Severity = SeveritySilence
		if a.suspend {
			e.Severity = SeveritySuspend
		}
		e.Comment = feedComment(e.Campaigns, a.labels, t.ghostDomain(e.Domain))
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b FeedEntry) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), cmp.Compare(a.Domain, b.Domain))
	})
	return out
}

func severityRank(s string) int {
	if s == SeveritySuspend {
		return 0
	}
	return 1
}

func (t *Tracker) unmanaged(op *pres, now time.Time) bool {
	if op.ServerID != "" {
		st := t.servers[op.ServerID]
		return st != nil && !st.ghostSince.IsZero()
	}
	return op.LastSeen.Sub(op.FirstSeen) >= unmanagedSpan && now.Sub(op.LastSeen) <= time.Hour
}

func (t *Tracker) ghostDomain(domain string) bool {
	o := t.origins[domain]
	return o != nil && !o.GhostSince.IsZero()
}

// feedComment names the campaigns (id and what their posts look like),
// never the rule that detected them.
func feedComment(ids, labels []string, ghost bool) string {
	var b strings.Builder
	if len(ids) == 1 {
		b.WriteString("Emitting spam campaign ")
	} else {
		b.WriteString("Emitting spam campaigns ")
	}
	suffix := ""
	if ghost {
		suffix = "; no moderator response"
	}
	for i, id := range ids {
		part := id
		if labels[i] != "" {
			part += " (" + labels[i] + ")"
		}
		if i > 0 {
			part = ", " + part
		}
		if b.Len()+len(part)+len(suffix)+len(", …") > maxComment {
			b.WriteString(", …")
			break
		}
		b.WriteString(part)
	}
	b.WriteString(suffix)
	return b.String()
}

var feedDomainRE = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$`)

// FeedDomain turns an origin name into the feed's form, lower case and
// ASCII (punycode), and reports whether it is a public host name the feed
// may list: not an IP address, at most 253 characters, every label 1 to 63
// letters, digits or hyphens (what Mastodon's domain validator accepts, and
// the pattern of the servers-response schema).
func FeedDomain(name string) (string, bool) {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	if name == "" {
		return "", false
	}
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return "", false
	}
	ascii, err := idna.Lookup.ToASCII(name)
	if err != nil {
		return "", false
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 || !feedDomainRE.MatchString(ascii) {
		return "", false
	}
	return ascii, true
}

// CSVHeader is the first line of the public feed, as Mastodon's domain block
// import expects it.
var CSVHeader = []string{"#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate"}

// WriteCSV writes entries in Mastodon's domain block import format (Admin →
// Federation → Import): header line first, LF line ends, RFC 4180 quoting.
// Media are always rejected (campaigns reuse images); reports are never
// rejected and domains never obfuscated.
func WriteCSV(w io.Writer, entries []FeedEntry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, e := range entries {
		if err := cw.Write([]string{e.Domain, e.Severity, "true", "false", strings.TrimSpace(e.Comment), "false"}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
