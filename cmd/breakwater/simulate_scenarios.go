package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// The simulator's traffic: ordinary sign-ups and posts on every customer
// server, and scripted attacks modelled on the three waves of
// ../shared/reference/incidents.md. Everything is generated up front from
// the seed, as events at simulated offsets, so a run is reproducible.

// Scenario names.
const (
	scenarioMay2023 = "may2023"
	scenarioFeb2024 = "feb2024"
	scenarioOct2024 = "oct2024"
)

var scenarioNames = []string{scenarioMay2023, scenarioFeb2024, scenarioOct2024}

var scenarioTitles = map[string]string{
	scenarioMay2023: "May 2023 private-mention crypto wave",
	scenarioFeb2024: "Feb 2024 nuke wave",
	scenarioOct2024: "Oct 2024 Misskey variant",
}

// simEvent is one check a customer server sends at a simulated offset.
type simEvent struct {
	at      time.Duration
	seq     int
	server  int
	attack  bool
	signup  *screening.SignupInput
	content *screening.ContentInput
}

// simPlan is a scenario's events and when its wave begins and ends.
type simPlan struct {
	events    []simEvent
	waveStart time.Duration
	waveEnd   time.Duration
	total     time.Duration
}

// simSpec shapes a run.
type simSpec struct {
	seed     uint64
	servers  int
	warmup   time.Duration
	scale    float64 // multiplies wave lengths
	ordinary float64 // multiplies ordinary traffic rates
	cooldown time.Duration
	explain  int // ordinary false positives to print
	// bootstrap is the service's first period: its ordinary traffic is
	// reported apart from the false-positive rate.
	bootstrap time.Duration
}

// simGen generates one scenario's events.
type simGen struct {
	spec  simSpec
	rng   *rand.Rand
	tr    *traffic
	start time.Time // simulated time of offset 0
	plan  simPlan
	n     int
}

func newSimGen(spec simSpec, scenario string, start time.Time) *simGen {
	h := sha256.Sum256([]byte(scenario))
	salt := uint64(h[0]) | uint64(h[1])<<8 | uint64(h[2])<<16 | uint64(h[3])<<24
	return &simGen{spec: spec, rng: rand.New(rand.NewPCG(spec.seed, salt)), tr: newTraffic(spec.seed ^ salt), start: start}
}

func (g *simGen) add(e simEvent) {
	e.seq = g.n
	g.n++
	g.plan.events = append(g.plan.events, e)
}

func (g *simGen) abs(at time.Duration) time.Time { return g.start.Add(at) }

// poisson draws arrival offsets in [from, to) at rate per minute.
func (g *simGen) poisson(from, to time.Duration, perMinute float64) []time.Duration {
	if perMinute <= 0 {
		return nil
	}
	var out []time.Duration
	mean := float64(time.Minute) / perMinute
	for t := from + time.Duration(g.rng.ExpFloat64()*mean); t < to; t += time.Duration(g.rng.ExpFloat64() * mean) {
		out = append(out, t)
	}
	return out
}

// simDomain is how other servers name customer server i in acct strings.
func simDomain(i int) string {
	if i == 0 {
		return "mastodon-large.example"
	}
	return fmt.Sprintf("town%02d.example", i)
}

var (
	// externalDomains are servers that are not customers but whose
	// ordinary users' posts reach customers.
	externalDomains = []string{"mastodon.social", "fosstodon.org", "misskey.io", "mstdn.jp", "hachyderm.io", "social.vivaldi.net"}
	memes           = []string{"1111", "2222", "3333", "4444", "5555"}
)

// ordinary adds ordinary traffic on every server over the whole run: the
// large server (0) has about 3 sign-ups and 40 posts a minute, the others
// a few posts a minute; a quarter of posts come from other servers, some
// carry photos or a shared meme, a few are new users introducing
// themselves.
func (g *simGen) ordinary() {
	r := g.spec.ordinary
	for s := 0; s < g.spec.servers; s++ {
		signups, posts := 0.15*r, 2.5*r
		if s == 0 {
			signups, posts = 3*r, 40*r
		}
		for _, at := range g.poisson(0, g.plan.total, signups) {
			in := g.tr.signup()
			occurred := g.abs(at)
			in.OccurredAt = &occurred
			g.add(simEvent{at: at, server: s, signup: &in})
		}
		for _, at := range g.poisson(0, g.plan.total, posts) {
			in := g.ordinaryPost(s, at)
			g.add(simEvent{at: at, server: s, content: &in})
		}
	}
}

// ordinaryPost is one ordinary post on server s: varied English or
// Japanese text, now and then mentions of followers, a link, a photo or a
// shared meme; some from other servers, a few from new users.
func (g *simGen) ordinaryPost(s int, at time.Duration) screening.ContentInput {
	now := g.abs(at)
	g.tr.n++
	followers := 10 + g.rng.IntN(500)
	in := screening.ContentInput{
		Post: screening.Post{ID: fmt.Sprintf("%d%06d", now.UnixMilli(), g.tr.n%1e6), Language: "en", Mentions: []screening.Mention{},
			Visibility: g.tr.pick([]string{"public", "public", "unlisted", "private"})},
		Author: screening.Author{Acct: g.tr.pick(firstNames) + fmt.Sprint(g.rng.IntN(5000)), Local: true,
			CreatedAt: now.Add(-time.Duration(30+g.rng.IntN(2000)) * 24 * time.Hour), Followers: &followers},
		OccurredAt: &now,
	}
	text := g.tr.sentence(6 + g.rng.IntN(20))
	if g.rng.IntN(5) == 0 {
		text, in.Post.Language = g.japanese(), "ja"
	}
	var html strings.Builder
	html.WriteString("<p>")
	yes := true
	for i := 0; i < g.rng.IntN(3); i++ {
		name, host := g.tr.pick(firstNames)+fmt.Sprint(g.rng.IntN(300)), g.tr.pick(append([]string{simDomain(s)}, externalDomains...))
		in.Post.Mentions = append(in.Post.Mentions, screening.Mention{Acct: name + "@" + host, FollowsAuthor: &yes})
		fmt.Fprintf(&html, `<span class="h-card"><a href="https://%s/@%s" class="u-url mention">@<span>%s</span></a></span> `, host, name, name)
	}
	html.WriteString(text)
	if g.rng.IntN(6) == 0 {
		l := g.tr.pick(ordinaryLinks)
		in.Post.Links = []string{l}
		fmt.Fprintf(&html, ` <a href="%s">%s</a>`, l, l)
	}
	html.WriteString("</p>")
	in.Post.Text = html.String()
	switch x := g.rng.IntN(100); {
	case x < 4: // a new user introduces themselves
		name := g.tr.pick(firstNames)
		intro := fmt.Sprintf("Hello fediverse! I'm %s. %s #introduction", name, g.tr.sentence(8+g.rng.IntN(12)))
		if g.rng.IntN(3) == 0 {
			intro = "はじめまして、" + name + "です。" + g.japanese() + " #自己紹介"
		}
		in.Post.Text = "<p>" + intro + "</p>"
		in.Post.Mentions, in.Post.Links, in.Post.Visibility = []screening.Mention{}, nil, "public"
		in.Author.CreatedAt = now.Add(-time.Duration(1+g.rng.IntN(72)) * time.Hour)
		in.Author.Acct = fmt.Sprintf("%s_%d", name, g.rng.IntN(100000))
		return in // text only: memes are reposted by people who have been around
	case x < 28: // a post from another server, screened as remote
		d := g.tr.pick(externalDomains)
		if g.rng.IntN(2) == 0 {
			d = simDomain(g.rng.IntN(g.spec.servers))
		}
		in.Author.Acct += "@" + d
		in.Author.Local = false
	}
	switch x := g.rng.IntN(100); {
	case x < 12: // a photo of one's own
		sum := sha256.Sum256([]byte(fmt.Sprint("photo", g.rng.Uint64())))
		in.Post.Media = []screening.Media{{SHA256: hex.EncodeToString(sum[:]), PHash: fmt.Sprintf("%016x", g.rng.Uint64()|1), MimeType: "image/jpeg"}}
	case x < 14: // a meme everybody reposts
		m := g.tr.pick(memes)
		sum := sha256.Sum256([]byte("meme" + m))
		in.Post.Media = []screening.Media{{SHA256: hex.EncodeToString(sum[:]), PHash: strings.Repeat(m, 4), MimeType: "image/png"}}
	}
	return in
}

var (
	jaWhen    = strings.Fields(`今日は 昨日は 週末は 朝から 仕事の後で 久しぶりに 夜になって 雨の日に 昼休みに 連休に 夕方 さっき 先週 今朝 午後から`)
	jaWhere   = strings.Fields(`駅前の 近所の 川沿いの 公園の 商店街の 実家の 職場の近くの 図書館の 海辺の 山の上の 隣町の 大学の`)
	jaWhat    = strings.Fields(`パン屋 カフェ 本屋 ラーメン屋 銭湯 美術館 古着屋 八百屋 喫茶店 定食屋 雑貨屋 映画館 温泉 花屋 楽器屋`)
	jaDid     = []string{"に行ってきた", "でのんびりした", "を見つけた", "で友達に会った", "で写真を撮った", "で本を読んだ", "でお昼を食べた", "を散歩した", "で雨宿りした", "の前を通った"}
	jaFeeling = []string{"とても楽しかった", "少し疲れた", "また行きたいな", "最高の一日", "のんびりできた", "おすすめです", "思ったより混んでいた", "満足です", "ちょっと寒かった", "癒やされた", "びっくりした", "いい天気だった"}
	jaExtra   = []string{"猫が膝の上で寝ている。", "明日も晴れるといいな。", "写真はあとで載せます。", "みんなは何してる？", "#日常", "#写真", "そろそろ寝ます。", "お腹すいた。", "来週も頑張ろう。", "お土産を買った。"}
)

// japanese is an ordinary Japanese post: one or two varied sentences.
func (g *simGen) japanese() string {
	var b strings.Builder
	for i := 0; i < 1+g.rng.IntN(2); i++ {
		fmt.Fprintf(&b, "%s%s%s%s。%sので%d時ごろ帰った。%s！", g.tr.pick(jaWhen), g.tr.pick(jaWhere), g.tr.pick(jaWhat), jaDid[g.rng.IntN(len(jaDid))],
			jaFeeling[g.rng.IntN(len(jaFeeling))], 1+g.rng.IntN(23), jaFeeling[g.rng.IntN(len(jaFeeling))])
	}
	if g.rng.IntN(2) == 0 {
		b.WriteString(jaExtra[g.rng.IntN(len(jaExtra))])
	}
	return b.String()
}

// deliver adds a remote post to n customer servers other than except.
func (g *simGen) deliver(at time.Duration, in screening.ContentInput, n, except int) {
	for _, s := range g.rng.Perm(g.spec.servers)[:min(n+1, g.spec.servers)] {
		if s == except || n == 0 {
			continue
		}
		n--
		c := in
		c.Post.ID = fmt.Sprintf("%s-%d", in.Post.ID, s)
		g.add(simEvent{at: at, server: s, attack: true, content: &c})
	}
}

func (g *simGen) waveLen(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)*g.spec.scale), 10*time.Second)
}

// may2023: 900 sign-ups a minute on the large server, through one OAuth
// application, with Outlook and Hotmail addresses from residential IPs all
// over the address space, then each account sends private mentions to
// strangers promising investment credit on one of a hundred rotating scam
// domains.
func (g *simGen) may2023() {
	start := g.plan.waveStart
	end := start + g.waveLen(3*time.Minute)
	g.plan.waveEnd = end
	scam := make([]string, 100)
	for i := range scam {
		scam[i] = fmt.Sprintf("%s-%s.example", []string{"quick", "moon", "prime", "alpha", "yield"}[i%5], []string{"yield", "coin", "credit", "vault", "swap"}[(i/5)%5]) + fmt.Sprint(i/25)
	}
	posts := 0
	for at := start; at < end; at += time.Minute / 900 {
		user := fmt.Sprintf("%s%c%04d", g.tr.pick(firstNames), 'a'+rune(g.rng.IntN(26)), g.rng.IntN(10000))
		mailDomain := []string{"outlook.com", "hotmail.com"}[g.rng.IntN(2)]
		occurred := g.abs(at)
		su := screening.SignupInput{
			Account:    screening.SignupAccount{Username: user, DisplayName: user, Email: user + "@" + mailDomain, Locale: "en"},
			IP:         fmt.Sprintf("%d.%d.%d.%d", 24+g.rng.IntN(180), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254)),
			UserAgent:  "okhttp/4.9.2",
			Client:     &screening.SignupClient{Application: "Crypto Wallet Sync"},
			OccurredAt: &occurred,
		}
		g.add(simEvent{at: at, server: 0, attack: true, signup: &su})
		created := g.abs(at)
		for _, delay := range []time.Duration{30 * time.Second, 90 * time.Second} {
			pat := at + delay + time.Duration(g.rng.IntN(20000))*time.Millisecond
			if pat >= g.plan.total {
				continue
			}
			no := false
			// Most victims are on the large server; some on other
			// customers, which screen the message as a remote post.
			victimServer := 0
			if g.rng.IntN(10) < 3 {
				victimServer = 1 + g.rng.IntN(g.spec.servers-1)
			}
			victim := fmt.Sprintf("%s%d", g.tr.pick(firstNames), g.rng.IntN(5000))
			domain := scam[(posts/30)%len(scam)]
			link := fmt.Sprintf("https://%s/r/%d", domain, 1000+g.rng.IntN(9000))
			amount := 200 + 50*g.rng.IntN(40)
			text := fmt.Sprintf(`<p><span class="h-card"><a href="https://%s/@%s" class="u-url mention">@<span>%s</span></a></span> Hi! You have unclaimed investment credit of %d USDT in your account. Claim it at <a href="%s">%s</a> before it expires today.</p>`,
				simDomain(victimServer), victim, victim, amount, link, strings.TrimPrefix(link, "https://"))
			occurred := g.abs(pat)
			in := screening.ContentInput{
				Post: screening.Post{ID: fmt.Sprintf("may%d", posts), Text: text, Visibility: "direct",
					Mentions: []screening.Mention{{Acct: victim, FollowsAuthor: &no}}, Links: []string{link}},
				Author:     screening.Author{Acct: user, CreatedAt: created, Local: true, Followers: new(int)},
				OccurredAt: &occurred,
			}
			posts++
			if victimServer == 0 {
				g.add(simEvent{at: pat, server: 0, attack: true, content: &in})
				continue
			}
			in.Post.Mentions[0].Acct = victim + "@" + simDomain(victimServer)
			in.Author.Acct, in.Author.Local = user+"@"+simDomain(0), false
			g.add(simEvent{at: pat, server: victimServer, attack: true, content: &in})
		}
	}
}

// feb2024: a script creates accounts on small open servers (ghost ships
// that are not customers, and a few customers with open registration) and
// posts in a loop the same text and image with ten mentions; the posts
// reach customers as remote posts.
func (g *simGen) feb2024() {
	start := g.plan.waveStart
	end := start + g.waveLen(8*time.Minute)
	g.plan.waveEnd = end
	small := []int{}
	for s := 1; s < g.spec.servers && len(small) < 4; s++ {
		small = append(small, s)
	}
	sum := sha256.Sum256([]byte("nuke wave image"))
	image := screening.Media{SHA256: hex.EncodeToString(sum[:]), PHash: "c3a5e1f00f1e5a3c", MimeType: "image/png"}
	text := "荒らし共栄圏へようこそ！このサーバーは我々が占領した。今すぐ参加しよう → discord.example/invite/kyoueiken 詳しくはプロフィールを見てね"
	for a, at := 0, start; at < end; a, at = a+1, at+time.Minute/40 {
		user := fmt.Sprintf("%s%d", g.randLetters(8), g.rng.IntN(100))
		origin, local := fmt.Sprintf("nuke-%02d.example", g.rng.IntN(40)), -1
		if g.rng.IntN(10) < 3 && len(small) > 0 {
			local = small[g.rng.IntN(len(small))]
			origin = simDomain(local)
			occurred := g.abs(at)
			su := screening.SignupInput{
				Account:    screening.SignupAccount{Username: user, Email: user + "@" + []string{"gmail.com", "yahoo.co.jp", "proton.me"}[g.rng.IntN(3)]},
				IP:         fmt.Sprintf("%d.%d.%d.%d", 100+g.rng.IntN(100), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254)),
				UserAgent:  "python-requests/2.31",
				Client:     &screening.SignupClient{Application: "nuke"},
				OccurredAt: &occurred,
			}
			g.add(simEvent{at: at, server: local, attack: true, signup: &su})
		}
		created := g.abs(at)
		for p := 0; p < 6; p++ {
			pat := at + time.Duration(10+20*p)*time.Second + time.Duration(g.rng.IntN(5000))*time.Millisecond
			if pat >= g.plan.total {
				break
			}
			in := g.massMention(fmt.Sprintf("feb%d-%d", a, p), text, pat, created, 10, g.rng.IntN(200), 200)
			in.Post.Media = []screening.Media{image}
			if local >= 0 {
				in.Author.Acct, in.Author.Local = user, true
				g.add(simEvent{at: pat, server: local, attack: true, content: &in})
				remote := in
				remote.Author.Acct, remote.Author.Local = user+"@"+origin, false
				g.deliver(pat, remote, 1, local)
				continue
			}
			in.Author.Acct, in.Author.Local = user+"@"+origin, false
			g.deliver(pat, in, 2, -1)
		}
	}
}

// oct2024: the same script on about a hundred mostly Misskey servers, with
// slight text variations, mentions rotated over a large pool, and the image
// re-encoded (perceptually close, never byte-identical).
func (g *simGen) oct2024() {
	start := g.plan.waveStart
	end := start + g.waveLen(8*time.Minute)
	g.plan.waveEnd = end
	greet := []string{"Hey", "Hi", "Hello", "Yo", "Attention"}
	verb := []string{"join", "come to", "check out", "visit", "hop into"}
	tail := []string{"now", "today", "right away", "before it's gone", "asap"}
	emoji := []string{"", " 🔥", " 😈", " 💥", " ⚡", " 🚨"}
	for a, at := 0, start; at < end; a, at = a+1, at+time.Minute/50 {
		origin := fmt.Sprintf("mk-%02d.example", g.rng.IntN(90))
		if g.rng.IntN(10) == 0 {
			origin = fmt.Sprintf("mstdn-%02d.example", g.rng.IntN(10))
		}
		user := g.randLetters(10)
		created := g.abs(at)
		for p := 0; p < 3; p++ {
			pat := at + time.Duration(5+15*p)*time.Second + time.Duration(g.rng.IntN(3000))*time.Millisecond
			if pat >= g.plan.total {
				break
			}
			text := fmt.Sprintf("%s fediverse! This instance now belongs to the Kyoueiken raid crew. %s our server %s for free invites and raid schedules, everyone is welcome%s",
				greet[g.rng.IntN(len(greet))], verb[g.rng.IntN(len(verb))], tail[g.rng.IntN(len(tail))], emoji[g.rng.IntN(len(emoji))])
			in := g.massMention(fmt.Sprintf("oct%d-%d", a, p), text, pat, created, 10, (a*10+p*3)%500, 500)
			ph := uint64(0x9a3c5e7f1b2d4f60)
			for f := 0; f < 1+g.rng.IntN(3); f++ {
				ph ^= 1 << g.rng.IntN(64)
			}
			sum := sha256.Sum256([]byte(fmt.Sprint("reencoded", a, p)))
			in.Post.Media = []screening.Media{{SHA256: hex.EncodeToString(sum[:]), PHash: fmt.Sprintf("%016x", ph), MimeType: "image/webp"}}
			in.Author.Acct, in.Author.Local = user+"@"+origin, false
			g.deliver(pat, in, 2, -1)
		}
	}
}

func (g *simGen) randLetters(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return string(b)
}

// massMention builds a post mentioning n accounts of a pool, starting at
// first (so consecutive posts rotate through the pool), none of which
// follows the author.
func (g *simGen) massMention(id, text string, at time.Duration, created time.Time, n, first, pool int) screening.ContentInput {
	no := false
	var html strings.Builder
	html.WriteString("<p>")
	var mentions []screening.Mention
	for j := 0; j < n; j++ {
		k := (first + j) % pool
		host := simDomain(k % g.spec.servers)
		name := fmt.Sprintf("%s%d", firstNames[k%len(firstNames)], k)
		mentions = append(mentions, screening.Mention{Acct: name + "@" + host, FollowsAuthor: &no})
		fmt.Fprintf(&html, `<span class="h-card"><a href="https://%s/@%s" class="u-url mention">@<span>%s</span></a></span> `, host, name, name)
	}
	html.WriteString(text + "</p>")
	occurred := g.abs(at)
	return screening.ContentInput{
		Post:       screening.Post{ID: id, Text: html.String(), Visibility: "public", Mentions: mentions},
		Author:     screening.Author{CreatedAt: created, Followers: new(int)},
		OccurredAt: &occurred,
	}
}

// planScenario generates a scenario's events, sorted by time.
func planScenario(spec simSpec, scenario string, start time.Time) (simPlan, error) {
	g := newSimGen(spec, scenario, start)
	g.plan.waveStart = spec.warmup
	waveMax := g.waveLen(8 * time.Minute)
	g.plan.total = spec.warmup + waveMax + spec.cooldown
	switch scenario {
	case scenarioMay2023:
		g.may2023()
	case scenarioFeb2024:
		g.feb2024()
	case scenarioOct2024:
		g.oct2024()
	default:
		return simPlan{}, usageErr("unknown scenario %q (want %s)", scenario, strings.Join(scenarioNames, ", "))
	}
	g.ordinary()
	slices.SortStableFunc(g.plan.events, func(a, b simEvent) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
	return g.plan, nil
}

// pct formats a share as a percentage; NaN (no data) as "-".
func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	v := 100 * float64(n) / float64(of)
	if v != 100 && v > 99.95 {
		return "99.9%" // never round a miss up to 100%
	}
	return fmt.Sprintf("%.1f%%", math.Round(v*10)/10)
}
