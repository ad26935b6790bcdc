package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// traffic makes varied, ordinary-looking sign-ups and posts, deterministic
// for a seed, for the load test and the simulator.
type traffic struct {
	rng *rand.Rand
	n   int
}

func newTraffic(seed uint64) *traffic {
	return &traffic{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
		"olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yuki", "haruto", "sakura", "mei", "wei", "lena", "jonas",
		"amara", "kofi", "ines", "mateo", "chloe", "noah", "emma", "liam", "zoe", "ravi", "priya", "omar", "fatima", "sven"}
	mailProviders = []string{"gmail.com", "outlook.com", "proton.me", "posteo.de", "fastmail.com", "icloud.com", "yahoo.co.jp",
		"gmx.de", "hotmail.com", "mailbox.org", "web.de", "qq.com"}
	words = strings.Fields(`the a garden today coffee morning train city walk photo cat dog book music concert bread rain sun
		weekend project code release bug fix server community meeting friends dinner bike mountain river museum art paint
		knit recipe soup tea library park festival game chess movie story quiet evening sunset sunrise market bakery`)
	jaSentences = []string{"今日は雨なので家で本を読んでいます。", "新しいパン屋さんに行ってきました！", "週末は山に登る予定です。",
		"猫がずっと寝ている。", "コーヒーを淹れて一息ついた。", "桜がきれいに咲いていました。"}
	ordinaryLinks = []string{"https://en.wikipedia.org/wiki/Bread", "https://www.openstreetmap.org/", "https://blog.example.org/post/1",
		"https://github.com/mastodon/mastodon", "https://www.bbc.co.uk/news", "https://www.nhk.or.jp/"}
)

func (t *traffic) pick(list []string) string { return list[t.rng.IntN(len(list))] }

func (t *traffic) sentence(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = t.pick(words)
	}
	return strings.Join(w, " ")
}

// signup is an ordinary sign-up.
func (t *traffic) signup() screening.SignupInput {
	t.n++
	name := t.pick(firstNames)
	user := fmt.Sprintf("%s_%s%d", name, t.pick(words), t.rng.IntN(100))
	secs := 20 + t.rng.Float64()*200
	return screening.SignupInput{
		Account: screening.SignupAccount{
			Username: user, DisplayName: strings.ToUpper(name[:1]) + name[1:],
			Email:  fmt.Sprintf("%s.%d.%d@%s", name, t.n, t.rng.IntN(1e6), t.pick(mailProviders)),
			Locale: t.pick([]string{"en", "de", "ja", "fr", "es"}),
			Reason: "I'd like to join to talk about " + t.sentence(4+t.rng.IntN(6)),
		},
		IP:        fmt.Sprintf("%d.%d.%d.%d", 1+t.rng.IntN(220), t.rng.IntN(256), t.rng.IntN(256), 1+t.rng.IntN(254)),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		Client:    &screening.SignupClient{FormSeconds: &secs},
	}
}

// post is an ordinary post: varied text, sometimes Japanese, mentions of
// followers, the odd link.
func (t *traffic) post(domain string, now time.Time) screening.ContentInput {
	t.n++
	followers := 10 + t.rng.IntN(500)
	text := t.sentence(6 + t.rng.IntN(20))
	if t.rng.IntN(5) == 0 {
		text = t.pick(jaSentences) + t.pick(jaSentences)
	}
	mentions := []screening.Mention{} // present even when empty: the spec requires the member
	html := "<p>"
	for i := 0; i < t.rng.IntN(3); i++ {
		acct := t.pick(firstNames) + "@" + t.pick([]string{domain, "mastodon.social", "fosstodon.org"})
		yes := true
		mentions = append(mentions, screening.Mention{Acct: acct, FollowsAuthor: &yes})
		html += fmt.Sprintf(`<span class="h-card"><a href="https://%s" class="u-url mention">@<span>%s</span></a></span> `, acct, acct)
	}
	html += text
	var links []string
	if t.rng.IntN(6) == 0 {
		l := t.pick(ordinaryLinks)
		links = append(links, l)
		html += fmt.Sprintf(` <a href="%s">%s</a>`, l, l)
	}
	html += "</p>"
	return screening.ContentInput{
		Post: screening.Post{ID: fmt.Sprintf("%d%06d", now.UnixMilli(), t.n%1e6), Text: html, Language: "en",
			Visibility: t.pick([]string{"public", "public", "unlisted", "private"}), Mentions: mentions, Links: links},
		Author: screening.Author{Acct: t.pick(firstNames) + fmt.Sprint(t.rng.IntN(5000)), Local: true,
			CreatedAt: now.Add(-time.Duration(30+t.rng.IntN(2000)) * 24 * time.Hour), Followers: &followers},
	}
}
