package signals

import (
	"regexp"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// Input is everything a signal may look at for one check, computed once by
// the engine: normalised text, keyed hashes and counts. Raw e-mail addresses
// and IP addresses never reach signals; the e-mail domain does, because
// domain lists need it.
type Input struct {
	Gate      string    // GateSignup or GateContent
	ServerID  string    // the calling server
	ServerKey uint64    // keyed hash of ServerID, as stored in member sets
	Now       time.Time // the engine clock at the check
	Policy    *PolicyView
	Lists     *Lists
	Signup    *SignupFacts  // nil on the content gate
	Content   *ContentFacts // nil on the sign-up gate
	// Campaigns looks up network-wide campaigns; nil when the engine has
	// none (tests, commands that do not screen).
	Campaigns CampaignLookup
}

// CampaignLookup is the read side of the network-wide campaigns
// (provider/campaigns), as the campaign signal needs it.
type CampaignLookup interface {
	// MatchCampaign finds the active campaign whose evidence the check's
	// fingerprints match.
	MatchCampaign(q CampaignQuery) (CampaignMatch, bool)
	// BurstCampaign names the active sign-up campaign that hit serverID
	// recently, i.e. that explains its current sign-up burst.
	BurstCampaign(serverID string, at time.Time) (string, bool)
}

// CampaignQuery is one check's fingerprints.
type CampaignQuery struct {
	Gate    string
	At      time.Time
	Text    uint64   // SimHash of the post text
	Media   []uint64 // keyed hashes of attachment SHA-256s
	PHashes []uint64 // perceptual hashes
	Links   []string // link hosts
	Signup  uint64   // sign-up pattern
}

// CampaignMatch is the campaign a check matched.
type CampaignMatch struct {
	ID string
	// Confirmed by the operator or by moderators of several servers.
	Confirmed bool
}

// FreshAge is the account age below which an author counts as a fresh
// account in network-wide member sets (duplicate media, near-duplicate
// text). It is fixed, not a param, because it is recorded with each post
// and replayed from persisted features.
const FreshAge = 7 * 24 * time.Hour

// SignupFacts are the pre-computed features of a sign-up.
type SignupFacts struct {
	AccountKey      uint64 // keyed hash of (server, username)
	EmailKey        uint64 // keyed hash of the canonical address; 0 if invalid
	EmailDomain     string // lower-case domain of the address (googlemail.com → gmail.com)
	EmailDomainKey  uint64
	IPKey           uint64 // keyed hash of the IPv4 /32 or IPv6 /64; 0 if invalid
	IPPrefixKey     uint64 // keyed hash of the IPv4 /24 or IPv6 /48
	IPv6            bool
	AppKey          uint64 // keyed hash of the client application; 0 if none
	Username        string // as sent, trimmed
	DisplayName     string
	UsernameFold    string // similarity.Fold of Username
	DisplayNameFold string
	Shape           similarity.Shape
	ReasonPresent   bool   // the server sent a reason field (it asks for one)
	Reason          string // normalised reason text
	ReasonTokens    []string
	ReasonPrint     uint64 // SimHash of the reason; 0 when too short
	Pattern         uint64 // keyed hash of e-mail domain, username shape class and client application (or IP prefix)
	FormSeconds     *float64
	Honeypot        bool
	Invited         bool
	RuleText        string // normalised reason, username and display name, one per line
}

// ContentFacts are the pre-computed features of a post.
type ContentFacts struct {
	AuthorKey        uint64 // keyed hash of (server, author acct)
	AuthorAge        time.Duration
	AuthorLocal      bool
	Followers        *int
	Visibility       string
	IsReply          bool
	Text             string   // normalised visible text (no mentions, no URLs)
	Tokens           []string // tokens of Text
	Fingerprint      uint64   // SimHash of Tokens; 0 when too short
	TokenIDs         []uint32 // keyed token ids for the classifier
	Links            []string // absolute http(s) URLs, from the text and post.links
	LinkDomains      []string // distinct link hosts, sorted
	LinkDomainKeys   []uint64 // parallel to LinkDomains
	Mentions         int      // distinct mentioned accounts
	StrangerMentions int      // mentioned accounts known not to follow the author
	FollowerMentions int      // mentioned accounts known to follow the author
	UnknownMentions  int      // mentioned accounts whose follow state is unknown
	Media            int      // attachments
	MediaKeys        []uint64 // keyed hashes of attachment SHA-256s
	PHashes          []uint64 // perceptual hashes (non-zero)
	RuleText         string   // normalised text, then links, for rules
}

// PolicyView is the part of a server's policy that signals read, compiled:
// domain sets and rules. Weights, thresholds and enablement are applied by
// the engine.
type PolicyView struct {
	AllowDomains      DomainSet
	DenyDomains       DomainSet
	AllowEmailDomains DomainSet
	DenyEmailDomains  DomainSet
	Rules             []CompiledRule
	WaveMode          bool
}

// CompiledRule is a policy rule ready to run: keywords are normalised the
// same way as the text they are matched against.
type CompiledRule struct {
	ID      string
	Gate    string // GateSignup, GateContent or "" for both
	Weight  int
	Keyword string         // normalised; "" for a regex rule
	Regex   *regexp.Regexp // nil for a keyword rule
}

// Match reports whether the rule matches normalised text.
func (r CompiledRule) Match(text string) bool {
	if r.Regex != nil {
		return r.Regex.MatchString(text)
	}
	return r.Keyword != "" && containsWord(text, r.Keyword)
}

// Lists are the provider-wide lists the operator maintains.
type Lists struct {
	Disposable       DomainSet
	DenyEmailDomains DomainSet
	DenyLinkDomains  DomainSet
	SpamPhrases      []string // normalised
}
