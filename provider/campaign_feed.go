package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/breakwater-fasp/breakwater/provider/campaigns"
	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// ServerFeed is the network feed of origin servers currently emitting
// confirmed campaigns (GET /spam_detection/v0/servers), with an entity tag
// for caching.
type ServerFeed struct {
	Servers []campaigns.FeedEntry `json:"servers"`
	ETag    string                `json:"-"`
}

// ServerFeed builds the feed now. Every replica observes every check, so
// any replica answers the same feed.
func (s *Service) ServerFeed(_ context.Context) (*ServerFeed, error) {
	if s.camp == nil {
		return nil, errors.New("campaigns are not available in this command")
	}
	f := &ServerFeed{Servers: s.camp.tr.Feed(s.now())}
	if f.Servers == nil {
		f.Servers = []campaigns.FeedEntry{}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	f.ETag = `"` + hex.EncodeToString(sum[:12]) + `"`
	return f, nil
}

// RequireScreening refuses callers with neither spam_detection capability
// active: the server feed needs one of them (capability_inactive).
func (s *Service) RequireScreening(c *Caller) error {
	// HasAnyCapability alone would also count the debug callback; the
	// spec asks for one of the two spam_detection capabilities.
	if c == nil || !c.HasAnyCapability() || (!c.activations[CapSignupScreening] && !c.activations[CapContentScreening]) {
		return &fault.Forbidden{Message: "the server feed needs signup_screening or content_screening enabled for this server: " +
			"enable one in your server's FASP provider settings (this sends POST /capabilities/signup_screening/0/activation)"}
	}
	return nil
}

// ListCampaignServers is the feed for a signed customer.
func (s *Service) ListCampaignServers(ctx context.Context, c *Caller) (*ServerFeed, error) {
	if err := s.RequireScreening(c); err != nil {
		return nil, err
	}
	return s.ServerFeed(ctx)
}

// ServerFeedCSV is the same feed in Mastodon's domain block import format,
// for the public file /feeds/servers.csv, with its entity tag.
func (s *Service) ServerFeedCSV(ctx context.Context) ([]byte, string, error) {
	f, err := s.ServerFeed(ctx)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if err := campaigns.WriteCSV(&buf, f.Servers); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), `"` + hex.EncodeToString(sum[:12]) + `"`, nil
}
