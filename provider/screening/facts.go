package screening

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/breakwater-fasp/breakwater/provider/signals"
	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// Limits on what one check contributes, so that a huge post costs bounded
// time and memory.
const (
	maxTokenIDs         = 512
	maxTokens           = 2000 // tokens fingerprinted: a long post's start identifies it
	maxLinks            = 100
	minReasonPrintWords = 6
)

// accountID is how an account is named for keys: lower-case, without a
// leading '@'. A local author's acct ("alice") equals their username.
func accountID(acct string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(acct), "@"))
}

func (e *Engine) accountKey(serverID, acct string) uint64 {
	return nonZero(e.keys.Sum64Parts("account", serverID, accountID(acct)))
}

func (e *Engine) fingerprint(tokens []string, minTokens int) uint64 {
	if len(tokens) < minTokens {
		return 0
	}
	return nonZero(similarity.SimHash(e.shingles, tokens))
}

// signupFacts computes everything signals need from a sign-up, and the
// privacy-safe Features that are persisted.
func (e *Engine) signupFacts(serverID string, in *SignupInput) (*signals.SignupFacts, Features) {
	a := in.Account
	f := Features{Version: FeaturesVersion, Gate: GateSignup}
	s := &signals.SignupFacts{
		Username:    strings.TrimSpace(a.Username),
		DisplayName: strings.TrimSpace(a.DisplayName),
		Honeypot:    in.Client != nil && in.Client.Honeypot,
		Invited:     a.Invited,
	}
	s.AccountKey = e.accountKey(serverID, s.Username)
	s.UsernameFold = similarity.Fold(s.Username)
	s.DisplayNameFold = similarity.Fold(s.DisplayName)
	s.Shape = similarity.UsernameShape(s.Username)

	if canon, domain, ok := similarity.CanonicalEmail(a.Email); ok {
		s.EmailKey = e.mac("email", []byte(canon))
		s.EmailDomain = domain
		s.EmailDomainKey = e.mac("email-domain", []byte(domain))
	}
	if ip, err := netip.ParseAddr(strings.TrimSpace(in.IP)); err == nil {
		ip = ip.Unmap()
		b := ip.AsSlice()
		if ip.Is4() {
			s.IPKey = e.mac("ip4/32", b)
			s.IPPrefixKey = e.mac("ip4/24", b[:3])
		} else {
			s.IPv6 = true
			s.IPKey = e.mac("ip6/64", b[:8])
			s.IPPrefixKey = e.mac("ip6/48", b[:6])
		}
	}
	if in.Client != nil {
		if app := strings.ToLower(strings.TrimSpace(in.Client.Application)); app != "" {
			s.AppKey = e.mac("app", []byte(app))
		}
		s.FormSeconds = in.Client.FormSeconds
	}
	s.Pattern = e.signupPattern(s)
	s.ReasonPresent = a.ReasonRequired || strings.TrimSpace(a.Reason) != ""
	s.Reason = similarity.Normalize(a.Reason)
	s.ReasonTokens = similarity.Tokenize(s.Reason)
	s.ReasonPrint = e.fingerprint(s.ReasonTokens, minReasonPrintWords)
	s.RuleText = s.Reason + "\n" + similarity.Normalize(s.Username) + "\n" + similarity.Normalize(s.DisplayName)

	f.AccountKey = Key64(s.AccountKey)
	f.EmailKey = Key64(s.EmailKey)
	f.EmailDomainKey = Key64(s.EmailDomainKey)
	f.IPKey = Key64(s.IPKey)
	f.IPPrefixKey = Key64(s.IPPrefixKey)
	f.IPv6 = s.IPv6
	f.AppKey = Key64(s.AppKey)
	f.ReasonPrint = Key64(s.ReasonPrint)
	f.SignupPattern = Key64(s.Pattern)
	return s, f
}

// signupPattern is the keyed hash of how a sign-up was made: the e-mail
// domain, the username's shape class, and the client application or, for
// sign-ups through the server's own form, the IP /24 or /48. A scripted
// wave shares one (May 2023: one application, Outlook addresses, names of
// one template) while people rarely do, so campaigns cluster on it.
func (e *Engine) signupPattern(s *signals.SignupFacts) uint64 {
	if s.EmailDomainKey == 0 {
		return 0
	}
	via, kind := s.AppKey, "app"
	if via == 0 {
		via, kind = s.IPPrefixKey, "net"
	}
	if via == 0 {
		return 0
	}
	return nonZero(e.keys.Sum64Parts("signup-pattern", strconv.FormatUint(s.EmailDomainKey, 16), shapeClass(s.Username),
		kind, strconv.FormatUint(via, 16)))
}

// shapeClass describes a username coarsely as runs of letters (l), digits
// (d) and other characters (o), each with its length in a band: "lenak8841"
// and "marco2209" are both "l2d2", "alice_garden42" is "l2o1l2d1".
func shapeClass(u string) string {
	var b strings.Builder
	kind, n := byte(0), 0
	flush := func() {
		if n == 0 {
			return
		}
		b.WriteByte(kind)
		switch {
		case n <= 3:
			b.WriteByte('1')
		case n <= 7:
			b.WriteByte('2')
		default:
			b.WriteByte('3')
		}
	}
	for _, r := range strings.ToLower(u) {
		k := byte('o')
		switch {
		case unicode.IsLetter(r):
			k = 'l'
		case unicode.IsDigit(r):
			k = 'd'
		}
		if k != kind {
			flush()
			kind, n = k, 0
		}
		n++
	}
	flush()
	return b.String()
}

// tokenID derives a classifier token id from a keyed token hash (the high
// bits, independent of the low bits SimHash votes with first).
func tokenID(h uint64) uint32 { return uint32(similarity.Mix64(h) >> 32) }

// mentionName turns a mention found in HTML (a profile URL such as
// https://host/@user or https://host/users/user, or "@user@host") into
// "user@host" where it can, for counting distinct mentions.
func mentionName(m string) string {
	_, rest, ok := strings.Cut(m, "://")
	if !ok {
		return accountID(m)
	}
	host, path, _ := strings.Cut(rest, "/")
	if i := strings.IndexAny(host, ":?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	path = strings.TrimRight(path, "/")
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		path = path[i+1:]
	}
	path = strings.TrimPrefix(path, "@")
	if path == "" || host == "" {
		return strings.ToLower(m)
	}
	// Lower-casing the parts is the same as lower-casing the joined string
	// ('@' ends any partial UTF-8 sequence), and allocates only the join.
	return strings.ToLower(path) + "@" + strings.ToLower(host)
}

// authorDomain is the server part of a remote author's acct ("user@host"),
// lower case; "" when there is none.
func authorDomain(acct string) string {
	acct = accountID(acct)
	i := strings.LastIndexByte(acct, '@')
	if i < 0 || i == len(acct)-1 {
		return ""
	}
	d := acct[i+1:]
	if len(d) > 253 || strings.ContainsAny(d, "/?#@ \t") {
		return ""
	}
	return d
}

// contentFacts computes everything signals need from a post, and the
// privacy-safe Features that are persisted.
func (e *Engine) contentFacts(serverID string, in *ContentInput, now time.Time) (*signals.ContentFacts, Features) {
	f := Features{Version: FeaturesVersion, Gate: GateContent}
	c := &signals.ContentFacts{
		AuthorLocal: in.Author.Local,
		Followers:   in.Author.Followers,
		Visibility:  in.Post.Visibility,
		IsReply:     strings.TrimSpace(in.Post.InReplyTo) != "",
	}
	c.AuthorKey = e.accountKey(serverID, in.Author.Acct)
	if !in.Author.CreatedAt.IsZero() {
		c.AuthorAge = max(0, now.Sub(in.Author.CreatedAt))
	}

	doc := similarity.Extract(in.Post.Text)
	c.Text = similarity.Normalize(doc.Text)
	if toks := similarity.AppendTokens(make([]string, 0, tokenCapacity(c.Text)), c.Text); len(toks) > 0 {
		c.Tokens = toks // else nil, as Tokenize returns
	}
	if len(c.Tokens) > maxTokens {
		c.Tokens = c.Tokens[:maxTokens]
	}
	// Each token is hashed once: the hashes feed both the SimHash and the
	// classifier's token ids. They are not kept, so an ordinary post's fit
	// in a buffer on the stack.
	var hashBuf [256]uint64
	hashes := hashBuf[:0]
	for _, t := range c.Tokens {
		hashes = append(hashes, e.shingles.Sum64(t))
	}
	if len(c.Tokens) >= similarity.MinFingerprintTokens {
		c.Fingerprint = nonZero(similarity.SimHashOf(hashes))
	}

	// Links: from the text and from post.links, absolute http(s) only.
	seenLink := map[string]bool{}
	domains := map[string]bool{}
	addLink := func(l, host string) {
		if seenLink[l] || len(c.Links) >= maxLinks {
			return
		}
		if c.Links == nil {
			c.Links = make([]string, 0, min(len(doc.Links)+len(in.Post.Links), maxLinks))
		}
		seenLink[l] = true
		c.Links = append(c.Links, l)
		domains[host] = true
	}
	for i, l := range doc.Links {
		addLink(l, doc.LinkHosts[i]) // Extract validated them, trimmed
	}
	for _, l := range in.Post.Links {
		l = strings.TrimSpace(l)
		if host, ok := similarity.LinkHost(l); ok {
			addLink(l, host)
		}
	}
	if len(domains) > 0 {
		c.LinkDomains = make([]string, 0, len(domains))
		for d := range domains {
			c.LinkDomains = append(c.LinkDomains, d)
		}
		slices.Sort(c.LinkDomains)
		c.LinkDomainKeys = make([]uint64, len(c.LinkDomains))
		for i, d := range c.LinkDomains {
			c.LinkDomainKeys[i] = e.linkKey(d)
		}
	}

	// Mentions: the server's list knows who follows; the HTML may name
	// more. Count the larger of the two; the extra ones are unknown.
	listed := map[string]*bool{}
	for _, m := range in.Post.Mentions {
		id := accountID(m.Acct)
		if id == "" {
			continue
		}
		if prev, ok := listed[id]; ok && prev != nil && m.FollowsAuthor == nil {
			continue
		}
		listed[id] = m.FollowsAuthor
	}
	for _, st := range listed {
		switch {
		case st == nil:
		case *st:
			c.FollowerMentions++
		default:
			c.StrangerMentions++
		}
	}
	inText := map[string]bool{}
	for _, m := range doc.Mentions {
		inText[mentionName(m)] = true
	}
	c.Mentions = max(len(listed), len(inText))
	c.UnknownMentions = c.Mentions - c.FollowerMentions - c.StrangerMentions

	// Media.
	c.Media = len(in.Post.Media)
	for _, m := range in.Post.Media {
		if sha := strings.ToLower(strings.TrimSpace(m.SHA256)); len(sha) == 64 {
			if isHex(sha, 64) {
				k := nonZero(e.keys.Sum64Parts("media", sha))
				if !slices.Contains(c.MediaKeys, k) {
					c.MediaKeys = append(c.MediaKeys, k)
				}
			}
		}
		if ph, err := strconv.ParseUint(strings.TrimSpace(m.PHash), 16, 64); err == nil && len(strings.TrimSpace(m.PHash)) == 16 && ph != 0 {
			if !slices.Contains(c.PHashes, ph) {
				c.PHashes = append(c.PHashes, ph)
			}
		}
	}

	// Classifier token ids: the first maxTokenIDs tokens plus link
	// domains, de-duplicated and sorted.
	ids := make([]uint32, 0, min(len(hashes), maxTokenIDs)+len(c.LinkDomains))
	for _, h := range hashes[:min(len(hashes), maxTokenIDs)] {
		ids = append(ids, tokenID(h))
	}
	for _, d := range c.LinkDomains {
		ids = append(ids, tokenID(e.linkTokenHash(d)))
	}
	slices.Sort(ids)
	c.TokenIDs = slices.Compact(ids)

	c.RuleText = ruleText(c.Text, c.Links)

	f.AccountKey = Key64(c.AuthorKey)
	if !in.Author.Local {
		f.Origin = authorDomain(in.Author.Acct)
	}
	f.AuthorAgeSeconds = int64(c.AuthorAge / time.Second)
	f.Visibility = c.Visibility
	f.Mentions = c.Mentions
	f.StrangerMentions = c.StrangerMentions
	f.TextPrint = Key64(c.Fingerprint)
	// The facts are only read by signals (which must not modify or retain
	// them), so Features shares their slices rather than copying them.
	f.Tokens = c.TokenIDs
	f.LinkDomains = c.LinkDomains
	for _, k := range c.MediaKeys {
		f.MediaKeys = append(f.MediaKeys, Key64(k))
	}
	for _, p := range c.PHashes {
		f.MediaPHashes = append(f.MediaPHashes, Key64(p))
	}
	return c, f
}

// tokenCapacity estimates how many tokens Tokenize finds in normalised
// text (one per space-separated word, with room for words that split at
// punctuation), so that the token slice is allocated once.
func tokenCapacity(text string) int {
	n := strings.Count(text, " ") + 1
	return min(n+n/4+4, maxTokens+64)
}

// linkTokenHash is the shingle hash of "\x00link:" + domain, the
// classifier's token for a link domain, hashed from a stack buffer instead
// of a concatenated string.
func (e *Engine) linkTokenHash(domain string) uint64 {
	const prefix = "\x00link:"
	var buf [64]byte
	return e.shingles.Sum64Bytes(append(append(buf[:0], prefix...), domain...))
}

// ruleText is what rules match on a post: the normalised text, then each
// link lower-cased on its own line.
func ruleText(text string, links []string) string {
	if len(links) == 0 {
		return text
	}
	n := len(text)
	for _, l := range links {
		n += 1 + len(l)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(text)
	for _, l := range links {
		b.WriteByte('\n')
		b.WriteString(strings.ToLower(l))
	}
	return b.String()
}
