package screening

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Ordinary traffic generators for scenario tests: varied, human-looking,
// deterministic for a seed.

var firstNames = []string{"anna", "kenji", "maria", "tomas", "lena", "omar", "yuki", "sofia", "li", "ines",
	"paul", "aiko", "noah", "emma", "ravi", "chloe", "jonas", "mei", "lucas", "sara", "hiro", "nina", "ali", "eva"}
var lastNames = []string{"kowalski", "tanaka", "silva", "novak", "smith", "garcia", "sato", "muller", "rossi",
	"kim", "dubois", "yamada", "costa", "berg", "moreau", "ito", "fischer", "lopez", "nakamura", "jensen"}

type traffic struct {
	r *rand.Rand
	n int
}

func newTraffic(seed uint64) *traffic { return &traffic{r: rand.New(rand.NewPCG(seed, seed*7+1))} }

func (g *traffic) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *traffic) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", 11+g.r.IntN(200), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *traffic) humanName() string {
	g.n++
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("%s_%s%d", g.pick(firstNames), g.pick(lastNames), g.n)
	case 1:
		return fmt.Sprintf("%s%d", g.pick(firstNames), 1950+g.r.IntN(60)+g.n*100)
	default:
		return fmt.Sprintf("%s.%s.%d", g.pick(firstNames), g.pick(lastNames), g.n)
	}
}

// ordinarySignup is a person signing up: gmail mostly, some outlook, the web
// form or a popular app.
func (g *traffic) ordinarySignup() SignupInput {
	name := g.humanName()
	user := strings.ReplaceAll(name, ".", "_")
	provider := "gmail.com"
	if g.r.IntN(100) < 15 {
		provider = "outlook.com"
	}
	in := signup(user, name+"@"+provider, g.ip())
	if g.r.IntN(10) == 0 {
		in.Client = &SignupClient{Application: "Tusky"}
	}
	if g.r.IntN(2) == 0 {
		in.Account.DisplayName = strings.ToUpper(name[:1]) + name[1:4] + " " + g.pick(lastNames)
	}
	return in
}

// botSignup is the May 2023 / 2024 script: random 10-letter usernames,
// outlook addresses, one OAuth application, residential proxy IPs.
func (g *traffic) botSignup() SignupInput {
	var b strings.Builder
	for range 10 {
		b.WriteByte(byte('a' + g.r.IntN(26)))
	}
	u := b.String()
	return signup(u, u+"@outlook.com", g.ip(), withApp("CryptoSignup/1.0"))
}

var words = strings.Fields(`the a of to and in is it you that he was for on are with as his they be at one have this from
or had by hot word but what some we can out other were all there when up use your how said an each she which do their time if
will way about many then them write would like so these her long make thing see him two has look more day could go come did
number sound no most people my over know water than call first who may down side been now find any new work part take get
place made live where after back little only round man year came show every good me give our under name very through just form
sentence great think say help low line differ turn cause much mean before move right boy old too same tell does set three want
air well also play small end put home read hand port large spell add even land here must big high such follow act why ask men
change went light kind off need house picture try us again animal point mother world near build self earth father garden bread
river coffee train music book walk morning cat dog rain snow bridge market island museum concert bicycle kitchen library`)

var jaPhrases = []string{"今日は天気がいいです", "駅前のパン屋さんに行きました", "新しい本を読み始めました", "猫が窓の外を見ています",
	"週末は山に登る予定です", "友達と一緒にラーメンを食べた", "桜がとてもきれいでした", "仕事が終わってほっとしています",
	"明日の会議の準備をしています", "コーヒーを飲みながら音楽を聴く", "電車が少し遅れていました", "久しぶりに映画を見ました",
	"雨が降りそうな空です", "庭のトマトが赤くなりました", "夕ご飯はカレーにしよう", "図書館で勉強しました"}

// ordinaryText is varied prose: random English word sequences or Japanese
// sentences, never a template.
func (g *traffic) ordinaryText() string {
	if g.r.IntN(4) == 0 {
		var parts []string
		for range 2 + g.r.IntN(3) {
			parts = append(parts, g.pick(jaPhrases))
		}
		return strings.Join(parts, "。") + "。"
	}
	n := 10 + g.r.IntN(20)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.pick(words)
	}
	return strings.Join(ws, " ")
}

var knownLinks = []string{"https://github.com/golang/go/issues/", "https://www.youtube.com/watch?v=", "https://en.wikipedia.org/wiki/Page_",
	"https://discord.gg/", "https://www.bbc.co.uk/news/articles/"}

// ordinaryPost is a post by an established account: varied text, sometimes
// mentioning followers, sometimes a link to a well-known site.
func (g *traffic) ordinaryPost(now time.Time) ContentInput {
	acct := fmt.Sprintf("regular%d", g.r.IntN(300))
	text := "<p>" + g.ordinaryText() + "</p>"
	in := post(acct, time.Duration(60+g.r.IntN(900))*24*time.Hour, now, text)
	if g.r.IntN(3) == 0 {
		mentions(1+g.r.IntN(6), &yes)(&in)
	}
	if g.r.IntN(4) == 0 {
		l := g.pick(knownLinks) + fmt.Sprint(g.r.IntN(100000))
		in.Post.Text += fmt.Sprintf(`<p><a href="%s">%s</a></p>`, l, strings.TrimPrefix(l, "https://"))
	}
	return in
}

// spamText is the wave's text: one paragraph, sometimes with a random tag
// appended, as the scripts did to dodge exact matching.
func (g *traffic) spamText() string {
	base := "Free crypto signals every single day from our expert team, join the private group now and earn five hundred percent returns this week, only a few spots left for new members"
	if g.r.IntN(2) == 0 {
		return fmt.Sprintf("%s %c%c%c%d", base, 'a'+rune(g.r.IntN(26)), 'a'+rune(g.r.IntN(26)), 'a'+rune(g.r.IntN(26)), g.r.IntN(1000))
	}
	return base
}
