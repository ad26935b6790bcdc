package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

// Capability identifiers Breakwater implements, with their specification
// versions as provider_info advertises them.
const (
	CapCallback         = "callback"
	CapSignupScreening  = "signup_screening"
	CapContentScreening = "content_screening"
)

// Capability is one advertised capability. Mastodon accepts only the keys id
// and version, both strings.
type Capability struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// Capabilities lists what provider_info advertises, in a stable order.
func Capabilities() []Capability {
	return []Capability{
		{ID: CapCallback, Version: "0.1"},
		{ID: CapSignupScreening, Version: "0.1"},
		{ID: CapContentScreening, Version: "0.1"},
	}
}

func findCapability(id string) (Capability, bool) {
	for _, c := range Capabilities() {
		if c.ID == id {
			return c, true
		}
	}
	return Capability{}, false
}

// PrivacyPolicy is one privacyPolicy entry of provider_info.
type PrivacyPolicy struct {
	URL      string `json:"url"`
	Language string `json:"language"`
}

// ProviderInfo is the body of GET /provider_info.
type ProviderInfo struct {
	Name             string          `json:"name"`
	PrivacyPolicy    []PrivacyPolicy `json:"privacyPolicy"`
	Capabilities     []Capability    `json:"capabilities"`
	SignInURL        string          `json:"signInUrl,omitempty"`
	ContactEmail     string          `json:"contactEmail,omitempty"`
	FediverseAccount string          `json:"fediverseAccount,omitempty"`
}

// Info returns provider_info.
func (s *Service) Info() ProviderInfo {
	privacy := s.opts.PrivacyPolicyURL
	if privacy == "" {
		privacy = s.URL("/privacy")
	}
	return ProviderInfo{
		Name: s.opts.Name,
		PrivacyPolicy: []PrivacyPolicy{
			{URL: privacy, Language: "en"},
		},
		Capabilities:     Capabilities(),
		SignInURL:        s.opts.SignInURL,
		ContactEmail:     s.opts.ContactEmail,
		FediverseAccount: s.opts.FediverseAccount,
	}
}

// URL builds an absolute URL under the public base URL.
func (s *Service) URL(path string) string {
	u := *s.opts.PublicURL
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// SetActivation records that a server enabled (or disabled) a capability.
// The version in the path is the major version ("0", as Mastodon sends it)
// or the full one ("0.1"); an unknown capability or version is
// fault.ErrNotFound.
func (s *Service) SetActivation(ctx context.Context, c *Caller, id, major string, enabled bool) error {
	capab, ok := findCapability(id)
	if !ok || (major != capab.Version && strings.SplitN(capab.Version, ".", 2)[0] != major) {
		if !enabled {
			// Disabling something we never offered changes nothing; the
			// spec asks for 204 on DELETE.
			return nil
		}
		return fmt.Errorf("capability %q version %q: %w", id, major, fault.ErrNotFound)
	}
	if err := s.db.SetActivation(ctx, c.ServerID, capab.ID, capab.Version, enabled, s.now()); err != nil {
		return fmt.Errorf("store activation of %s for server %s: %w", id, c.ServerID, err)
	}
	s.keys.drop(c.ServerID)
	return nil
}

// RequireCapability refuses a call for a capability the server has not
// activated, with a message that says how to activate it. Activations are
// loaded with the caller's keys, so this costs no query.
func (s *Service) RequireCapability(_ context.Context, c *Caller, id string) error {
	if c.activations[id] {
		return nil
	}
	return &fault.Forbidden{Message: fmt.Sprintf(
		"capability %q is not activated for this server: enable it in your server's FASP provider settings (this sends POST /capabilities/%s/0/activation)", id, id)}
}

// HasAnyCapability tells whether the caller activated at least one capability.
func (c *Caller) HasAnyCapability() bool { return len(c.activations) > 0 }
