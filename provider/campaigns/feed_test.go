package campaigns

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// mastodonImport applies the rules Mastodon's admin domain block import
// applies to an uploaded CSV (Admin::Import and
// Admin::ExportDomainBlocksController#import, Mastodon 4.x): the file must
// parse as strict RFC 4180 UTF-8; the first header must be "#domain" or
// every line is read as a bare domain; at most 20,000 rows; each row's
// #domain is downcased and stripped and must pass DomainValidator (normalised
// host under 256 characters, labels of 1-63 letters, digits or hyphens);
// #severity must be one of the enum's values; the boolean columns are cast
// by ActiveModel::Type::Boolean; #public_comment is stripped; a domain that
// already has a block is skipped. It returns the rows Mastodon would offer
// to import, or fails the test naming the rule broken.
func mastodonImport(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	if !utf8.Valid(data) {
		t.Fatal("not UTF-8")
	}
	if bytes.Contains(data, []byte("\r")) {
		t.Fatal("line ends must be LF")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 0 // every row as wide as the header
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV::MalformedCSVError: %v", err)
	}
	if len(recs) == 0 || recs[0][0] != "#domain" {
		t.Fatalf("first header is not #domain: Mastodon would read every line as a bare domain: %q", recs)
	}
	if !slices.Equal(recs[0], CSVHeader) {
		t.Fatalf("header %q, want %q", recs[0], CSVHeader)
	}
	if len(recs)-1 > 20_000 {
		t.Fatalf("%d rows, over the processing limit", len(recs)-1)
	}
	label := regexp.MustCompile(`^[a-z0-9-]+$`)
	boolean := func(col, v string) string {
		v = strings.ToLower(v)
		switch v {
		case "false", "0", "f", "off":
			return "false"
		case "":
			t.Fatalf("%s is empty: cast to nil, a NOT NULL column", col)
		}
		if v != "true" {
			t.Fatalf("%s = %q: Mastodon casts it to true, say true", col, v)
		}
		return "true"
	}
	seen := map[string]bool{}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = rec[i]
		}
		domain := strings.ToLower(strings.TrimSpace(row["#domain"]))
		if domain != row["#domain"] {
			t.Fatalf("domain %q changes when Mastodon downcases and strips it", row["#domain"])
		}
		if len(domain) >= 256 {
			t.Fatalf("domain %q too long", domain)
		}
		for _, l := range strings.Split(domain, ".") {
			if len(l) < 1 || len(l) > 63 || !label.MatchString(l) {
				t.Fatalf("domain %q fails DomainValidator at label %q", domain, l)
			}
		}
		if seen[domain] {
			t.Fatalf("domain %q twice: the second row would be skipped (uniqueness)", domain)
		}
		seen[domain] = true
		sev := strings.ToLower(strings.TrimSpace(row["#severity"]))
		if sev != "silence" && sev != "suspend" && sev != "noop" {
			t.Fatalf("severity %q is not in DomainBlock's enum", row["#severity"])
		}
		row["#reject_media"] = boolean("#reject_media", row["#reject_media"])
		row["#reject_reports"] = boolean("#reject_reports", row["#reject_reports"])
		row["#obfuscate"] = boolean("#obfuscate", row["#obfuscate"])
		if c := row["#public_comment"]; strings.TrimSpace(c) != c {
			t.Fatalf("public comment %q changes when stripped", c)
		}
		rows = append(rows, row)
	}
	return rows
}

// feedSetup opens a text campaign whose posts come from a remote origin
// (spam.example, via s1 and s2) and from local accounts of the customer
// server ghost.example.
func feedSetup(t *testing.T) (*Tracker, *clock) {
	t.Helper()
	tr, c := newTracker(t, nil)
	camp := open(t, tr, c, "cmp_01JPB1QW8E6R4T2Y0U8I6O4P2A")
	if camp.Kind != KindText {
		t.Fatal(camp.Kind)
	}
	for i := 0; i < 4; i++ {
		e := post(300+i, []string{"s1", "s2"}[i%2], c.t)
		e.Local, e.Origin = false, "Spam.Example"
		tr.Observe(e)
		g := post(400+i, "g", c.t)
		g.ServerDomain = "ghost.example"
		tr.Observe(g)
		c.advance(time.Minute)
	}
	return tr, c
}

func TestFeedNeedsConfirmation(t *testing.T) {
	tr, c := feedSetup(t)
	if f := tr.Feed(c.t); len(f) != 0 {
		t.Fatalf("unconfirmed campaign in the feed: %+v", f)
	}
	// Moderators of two servers confirm it: silence only.
	tr.Feedback("cmp_01JPB1QW8E6R4T2Y0U8I6O4P2A", "s1", "spam", "")
	tr.Feedback("cmp_01JPB1QW8E6R4T2Y0U8I6O4P2A", "s2", "spam", "")
	f := tr.Feed(c.t)
	if len(f) < 2 {
		t.Fatalf("feed = %+v", f)
	}
	for _, e := range f {
		if e.Severity != SeveritySilence {
			t.Fatalf("automatic confirmation suggested %s for %s", e.Severity, e.Domain)
		}
	}
}

func TestFeedSeverityCommentAndCSV(t *testing.T) {
	tr, c := feedSetup(t)
	// ghost.example keeps getting held sign-ups with no moderator response.
	for i := 0; i < 40; i++ {
		tr.Observe(Event{CheckID: fmt.Sprint("su", i), ServerID: "g", ServerDomain: "ghost.example", Gate: GateSignup, At: c.t,
			Account: uint64(5000 + i), Flagged: true, BurstSignup: true})
		c.advance(time.Minute)
	}
	cur, _ := tr.Get("cmp_01JPB1QW8E6R4T2Y0U8I6O4P2A")
	conf, _ := Apply(cur, ActionConfirm, "op", c.t, tr.Params().Quiet)
	tr.Install(conf)
	// ghost.example posts again, so it is emitting now.
	g := post(500, "g", c.t)
	g.ServerDomain = "ghost.example"
	tr.Observe(g)

	f := tr.Feed(c.t)
	byDomain := map[string]FeedEntry{}
	for _, e := range f {
		byDomain[e.Domain] = e
	}
	ghost, ok := byDomain["ghost.example"]
	if !ok || ghost.Severity != SeveritySuspend || !strings.Contains(ghost.Comment, "no moderator response") ||
		!strings.Contains(ghost.Comment, "cmp_01JPB1QW8E6R4T2Y0U8I6O4P2A (mass-mention posts)") {
		t.Fatalf("ghost entry = %+v", ghost)
	}
	spam, ok := byDomain["spam.example"]
	if !ok || spam.Severity != SeveritySilence || spam.FirstSeen.After(spam.LastSeen) {
		t.Fatalf("remote origin entry = %+v (lower-cased domain expected)", spam)
	}
	for _, e := range f {
		if strings.Contains(e.Comment, "text") || strings.Contains(e.Comment, "SimHash") || len(e.Comment) > 500 {
			t.Fatalf("comment names the rule or is too long: %q", e.Comment)
		}
	}
	if f[0].Severity != SeveritySuspend {
		t.Fatal("suspend entries first")
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, f); err != nil {
		t.Fatal(err)
	}
	rows := mastodonImport(t, buf.Bytes())
	if len(rows) != len(f) {
		t.Fatalf("%d rows for %d entries", len(rows), len(f))
	}
	for i, r := range rows {
		if r["#domain"] != f[i].Domain || r["#severity"] != f[i].Severity || r["#reject_media"] != "true" ||
			r["#reject_reports"] != "false" || r["#obfuscate"] != "false" || r["#public_comment"] != f[i].Comment {
			t.Fatalf("row %d = %v, entry %+v", i, r, f[i])
		}
	}

	// Quiet origins leave the feed: 24 hours after their last campaign
	// traffic, even while the campaign stays active.
	c.advance(25 * time.Hour)
	if f := tr.Feed(c.t); len(f) != 0 {
		t.Fatalf("quiet origins still listed: %+v", f)
	}
	if _, ok := tr.Match(Query{Gate: GateContent, At: c.t, Text: spamText}); !ok {
		t.Fatal("the campaign itself should still be active")
	}
}

func TestCSVQuotingAndEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n" {
		t.Fatalf("empty feed = %q", buf.String())
	}
	if rows := mastodonImport(t, buf.Bytes()); len(rows) != 0 {
		t.Fatal(rows)
	}
	buf.Reset()
	e := []FeedEntry{{Domain: "a.example", Severity: SeveritySilence, Comment: `Emitting spam campaigns x (posts, "quoted"), y`}}
	if err := WriteCSV(&buf, e); err != nil {
		t.Fatal(err)
	}
	rows := mastodonImport(t, buf.Bytes())
	if rows[0]["#public_comment"] != e[0].Comment {
		t.Fatalf("comment did not survive quoting: %q", rows[0]["#public_comment"])
	}
}

func TestFeedDomain(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ghost.example", "ghost.example", true},
		{"Ghost.Example.", "ghost.example", true},
		{"münchen.example", "xn--mnchen-3ya.example", true},
		{"127.0.1.2", "", false},
		{"10.0.0.12", "", false},
		{"::1", "", false},
		{"localhost", "", false},
		{"under_score.example", "", false},
		{"-bad.example", "", false},
		{strings.Repeat("a", 64) + ".example", "", false},
		{"", "", false},
	} {
		got, ok := FeedDomain(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("FeedDomain(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFeedCommentBounded(t *testing.T) {
	var ids, labels []string
	for i := 0; i < 40; i++ {
		ids = append(ids, fmt.Sprintf("cmp_%026d", i))
		labels = append(labels, "mass-mention posts with an image")
	}
	c := feedComment(ids, labels, true)
	if len(c) > 500 || !strings.HasSuffix(c, "; no moderator response") || !strings.Contains(c, "…") {
		t.Fatalf("comment = %q (%d)", c, len(c))
	}
}
