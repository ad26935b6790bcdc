package screening

import (
	"fmt"
	"strconv"
)

// FeaturesVersion is bumped when the meaning of Features changes, so that a
// replay can tell old records apart.
const FeaturesVersion = 1

// Key64 is a 64-bit keyed hash or fingerprint. It is written as 16 hex
// digits in JSON because JavaScript and some databases cannot hold 64-bit
// integers exactly. Zero means "absent".
type Key64 uint64

// MarshalText writes 16 lower-case hex digits.
func (k Key64) MarshalText() ([]byte, error) {
	return []byte(fmt.Sprintf("%016x", uint64(k))), nil
}

// UnmarshalText reads 16 hex digits.
func (k *Key64) UnmarshalText(b []byte) error {
	if len(b) != 16 {
		return fmt.Errorf("key must be 16 hex digits")
	}
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return fmt.Errorf("key must be 16 hex digits")
	}
	*k = Key64(v)
	return nil
}

// Features is the privacy-safe record of one check: keyed hashes (HMAC for
// e-mail, IP and application; keyed SipHash for accounts, media and tokens),
// fingerprints and counts, never the raw e-mail address, IP address or post
// text. It holds everything the engine's windows are built from, so
// Observe(serverID, features, at, decision) rebuilds the same state Screen
// built, and Learn can train from it after a restart. Keys are only
// comparable under the same Options.HashKey.
type Features struct {
	Version int    `json:"v"`
	Gate    string `json:"gate"`
	// AccountKey identifies the account on its server: the sign-up's
	// username, or the post author's acct (a local author's posts share
	// the key of their sign-up).
	AccountKey Key64 `json:"accountKey,omitempty"`

	// Sign-up gate.
	EmailKey       Key64 `json:"emailKey,omitempty"`       // canonical address (+tag and Gmail dots removed)
	EmailDomainKey Key64 `json:"emailDomainKey,omitempty"` // e-mail domain
	IPKey          Key64 `json:"ipKey,omitempty"`          // IPv4 /32 or IPv6 /64
	IPPrefixKey    Key64 `json:"ipPrefixKey,omitempty"`    // IPv4 /24 or IPv6 /48
	IPv6           bool  `json:"ipv6,omitempty"`
	AppKey         Key64 `json:"appKey,omitempty"`      // client application
	ReasonPrint    Key64 `json:"reasonPrint,omitempty"` // SimHash of the sign-up reason
	// SignupPattern is the keyed hash of how a scripted sign-up looks:
	// e-mail domain, username shape class, and client application (or,
	// for the web form, the IP prefix). Campaigns cluster on it.
	SignupPattern Key64 `json:"signupPattern,omitempty"`

	// Content gate.
	AuthorAgeSeconds int64    `json:"authorAgeSeconds,omitempty"` // at the time of the check
	Visibility       string   `json:"visibility,omitempty"`
	Mentions         int      `json:"mentions,omitempty"`
	StrangerMentions int      `json:"strangerMentions,omitempty"`
	TextPrint        Key64    `json:"textPrint,omitempty"`    // SimHash of the normalised text
	Tokens           []uint32 `json:"tokens,omitempty"`       // keyed token ids, sorted, for the classifier
	LinkDomains      []string `json:"linkDomains,omitempty"`  // link hosts, sorted
	MediaKeys        []Key64  `json:"mediaKeys,omitempty"`    // keyed hashes of attachment SHA-256s
	MediaPHashes     []Key64  `json:"mediaPhashes,omitempty"` // perceptual hashes
	// Origin is a remote author's server (the domain of author.acct), kept
	// in clear as the spec allows, for per-origin campaign reputation;
	// empty for local authors.
	Origin string `json:"origin,omitempty"`

	// Signals are the codes that contributed a non-zero weight, sorted;
	// moderator feedback adjusts the server's weights for exactly these.
	Signals []string `json:"signals,omitempty"`
	// Campaign is the campaign the check matched when it was decided
	// (Outcome.CampaignID), so that replicas and replays count it for
	// that campaign.
	Campaign string `json:"campaign,omitempty"`
}
