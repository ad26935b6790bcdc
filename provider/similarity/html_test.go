package similarity

import (
	"slices"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		text     string // after Normalize
		links    []string
		mentions int
		tags     []string
	}{
		{
			name: "mastodon mentions hashtags and shortened link",
			in: `<p><span class="h-card" translate="no"><a href="https://mastodon.social/@alice" class="u-url mention">@<span>alice</span></a></span> ` +
				`look at <a href="https://example.com/very/long/path?x=1&amp;y=2" target="_blank" rel="nofollow noopener noreferrer" translate="no">` +
				`<span class="invisible">https://</span><span class="ellipsis">example.com/very/long/pa</span><span class="invisible">th?x=1&amp;y=2</span></a> ` +
				`<a href="https://mastodon.social/tags/Crypto" class="mention hashtag" rel="tag">#<span>Crypto</span></a></p>`,
			text:     "look at #crypto",
			links:    []string{"https://example.com/very/long/path?x=1&y=2"},
			mentions: 1,
			tags:     []string{"crypto"},
		},
		{
			name:     "plain text urls and handles",
			in:       "Hi @bob@example.social and @carol, visit https://scam.example/win!! or www.other.example.",
			text:     "hi and , visit !! or .",
			links:    []string{"https://scam.example/win", "http://www.other.example"},
			mentions: 2,
		},
		{
			name: "entities, breaks and script",
			in:   `<p>Fish &amp; chips<br>tonight&nbsp;!</p><script>alert("x")</script><p>ok</p>`,
			text: "fish & chips tonight ! ok",
		},
		{
			name:  "link with words keeps words",
			in:    `<a href="https://shop.example/">buy now</a> cheap`,
			text:  "buy now cheap",
			links: []string{"https://shop.example/"},
		},
		{
			name: "lone angle bracket and unclosed tag",
			in:   `a < b and <a href="https://x.example">x.example`,
			text: "a < b and",
			links: []string{
				"https://x.example",
			},
		},
		{
			name:  "japanese text right after url",
			in:    "詳しくはhttps://example.jp/path をご覧ください",
			text:  "詳しくは をご覧ください",
			links: []string{"https://example.jp/path"},
		},
		{
			name: "email is not a mention",
			in:   "write to bob@example.com",
			text: "write to bob@example.com",
		},
		{
			name: "comment and custom emoji",
			in:   `<!-- hidden -->hello <img alt=":blobcat:" src="x.png">`,
			text: "hello :blobcat:",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Extract(c.in)
			if got := Normalize(d.Text); got != c.text {
				t.Errorf("text = %q, want %q", got, c.text)
			}
			if !slices.Equal(d.Links, c.links) {
				t.Errorf("links = %q, want %q", d.Links, c.links)
			}
			if len(d.Mentions) != c.mentions {
				t.Errorf("mentions = %q, want %d", d.Mentions, c.mentions)
			}
			if !slices.Equal(d.Hashtags, c.tags) {
				t.Errorf("tags = %q, want %q", d.Hashtags, c.tags)
			}
		})
	}
}

func TestLinkHost(t *testing.T) {
	cases := map[string]string{
		"https://WWW.Example.COM:443/a": "example.com",
		"http://sub.example.org./x":     "sub.example.org",
		"ftp://example.com":             "",
		"https://localhost":             "",
		"not a url":                     "",
		"https://1.2.3.4/x":             "1.2.3.4",
	}
	for in, want := range cases {
		got, ok := LinkHost(in)
		if got != want || ok != (want != "") {
			t.Errorf("LinkHost(%q) = %q,%v want %q", in, got, ok, want)
		}
	}
}

func TestFindURLs(t *testing.T) {
	got := FindURLs("see (https://en.wikipedia.org/wiki/Foo_(bar)) and https://a.example/x, then WWW.B.EXAMPLE/y.")
	want := []string{"https://en.wikipedia.org/wiki/Foo_(bar)", "https://a.example/x", "http://WWW.B.EXAMPLE/y"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	if got := FindURLs("https:// nothing here http://"); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"  Hello\t\tWORLD \n":                      "hello world",
		"ＦＲＥＥ　ｃｒｙｐｔｏ":                              "free crypto",
		"fr\u200bee mo\u00adney":                   "free money",
		"Straße":                                   "strasse",
		"カタカナ ｶﾀｶﾅ":                                "カタカナ カタカナ",
		"\U0001d41f\U0001d42b\U0001d41e\U0001d41e": "free",
	}
	for in, want := range cases {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(`<p><a href="https://m.example/@a" class="u-url mention">@a</a> hi</p>`)
	f.Add(`<a href='x'>`)
	f.Fuzz(func(t *testing.T, s string) {
		d := Extract(s)
		if len(d.Text) > 2*len(s)+16 {
			t.Fatalf("text grew: %d from %d", len(d.Text), len(s))
		}
		if len(d.LinkHosts) != len(d.Links) {
			t.Fatalf("%d link hosts for %d links", len(d.LinkHosts), len(d.Links))
		}
		for i, l := range d.Links {
			host, ok := LinkHost(l)
			if !ok {
				t.Fatalf("link %q has no host", l)
			}
			if d.LinkHosts[i] != host || strings.TrimSpace(l) != l {
				t.Fatalf("link %q: host %q, LinkHost %q", l, d.LinkHosts[i], host)
			}
		}
		n := Normalize(d.Text)
		if Normalize(n) != n {
			t.Fatalf("normalise not idempotent on %q", n)
		}
		if strings.Contains(n, "  ") {
			t.Fatalf("double space in %q", n)
		}
	})
}

func FuzzFindURLs(f *testing.F) {
	f.Add("go to https://example.com/a?b=c, now")
	f.Add("www.x.y")
	f.Fuzz(func(t *testing.T, s string) {
		for _, u := range FindURLs(s) {
			if _, ok := LinkHost(u); !ok {
				t.Fatalf("url %q from %q has no host", u, s)
			}
			if strings.ContainsAny(u, " \t\n<>\"") {
				t.Fatalf("url %q contains a delimiter", u)
			}
		}
	})
}
