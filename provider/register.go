package provider

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// RegisterInput is what a server admin (or the operator CLI) supplies.
type RegisterInput struct {
	// ServerURL is the fediverse server's address, e.g. https://mastodon.example.
	ServerURL string
	// BaseURL optionally names the server's FASP base URL explicitly, for
	// software that does not publish it in nodeinfo.
	BaseURL      string
	ContactEmail string
}

// Registration is the result an admin needs to finish on their server.
type Registration struct {
	ServerID      string
	Domain        string
	BaseURL       string
	Software      string
	Fingerprint   string
	CompletionURI string
}

// Register discovers the server's FASP base URL, creates a key pair and a
// serverId, and announces Breakwater to the server with POST <base>/registration.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*Registration, error) {
	srvURL, err := s.http.CheckURL(strings.TrimSpace(in.ServerURL))
	if err != nil {
		return nil, &fault.ValidationError{Field: "serverUrl", Message: err.Error()}
	}
	base, software, err := s.discoverBaseURL(ctx, srvURL, strings.TrimSpace(in.BaseURL))
	if err != nil {
		return nil, err
	}
	now := s.now()
	serverID := models.NewID(now)
	key, priv, err := s.newKeyRow()
	if err != nil {
		return nil, err
	}
	ans, err := s.postRegistration(ctx, base, serverID, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	key.FaspID, key.RemotePublicKey, key.CompletionURI = ans.FaspID, ans.PublicKey, ans.RegistrationCompletionURI
	srv := &models.Server{
		ID:           serverID,
		Domain:       strings.ToLower(srvURL.Hostname()),
		ServerURL:    srvURL.String(),
		BaseURL:      base,
		Software:     software,
		Status:       models.ServerActive,
		ContactEmail: in.ContactEmail,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if err := s.db.CreateServer(ctx, srv, key); err != nil {
		return nil, fmt.Errorf("store registration of %s: %w", srv.Domain, err)
	}
	s.opts.Logger.InfoContext(ctx, "server registered", "server_id", serverID, "domain", srv.Domain)
	return &Registration{
		ServerID: serverID, Domain: srv.Domain, BaseURL: base, Software: software,
		Fingerprint:   Fingerprint(priv.Public().(ed25519.PublicKey)),
		CompletionURI: ans.RegistrationCompletionURI,
	}, nil
}

// RotateKey gives a server a new key pair without downtime: Breakwater
// registers again under the same serverId with the new public key; the admin
// confirms the new registration on their server; meanwhile the old key stays
// valid for the grace period.
func (s *Service) RotateKey(ctx context.Context, serverID string) (*Registration, error) {
	srv, err := s.db.GetServer(ctx, serverID)
	if err != nil {
		return nil, dbErr("load server "+serverID, err)
	}
	key, priv, err := s.newKeyRow()
	if err != nil {
		return nil, err
	}
	key.ServerID = srv.ID
	ans, err := s.postRegistration(ctx, srv.BaseURL, srv.ID, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	key.FaspID, key.RemotePublicKey, key.CompletionURI = ans.FaspID, ans.PublicKey, ans.RegistrationCompletionURI
	if err := s.db.RotateKey(ctx, key, s.now().Add(s.opts.KeyGrace)); err != nil {
		return nil, fmt.Errorf("store rotated key for %s: %w", serverID, err)
	}
	s.keys.drop(serverID)
	return &Registration{
		ServerID: srv.ID, Domain: srv.Domain, BaseURL: srv.BaseURL, Software: srv.Software,
		Fingerprint:   Fingerprint(priv.Public().(ed25519.PublicKey)),
		CompletionURI: ans.RegistrationCompletionURI,
	}, nil
}

type registrationAnswer struct {
	FaspID                    string `json:"faspId"`
	PublicKey                 string `json:"publicKey"`
	RegistrationCompletionURI string `json:"registrationCompletionUri"`
}

func (s *Service) postRegistration(ctx context.Context, base, serverID string, pub ed25519.PublicKey) (*registrationAnswer, error) {
	payload, err := json.Marshal(map[string]string{
		"name":      s.opts.Name,
		"baseUrl":   strings.TrimSuffix(s.opts.PublicURL.String(), "/"),
		"serverId":  serverID,
		"publicKey": encodeKey(pub),
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/registration", bytes.NewReader(payload))
	if err != nil {
		return nil, &fault.ValidationError{Field: "baseUrl", Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, &fault.Upstream{Message: "the server's FASP registration endpoint could not be reached", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &fault.Upstream{Message: "reading the server's registration answer failed", Err: err}
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, &fault.Upstream{Message: fmt.Sprintf("the server answered the registration with HTTP %d (is FASP enabled there? Mastodon needs EXPERIMENTAL_FEATURES=fasp)", resp.StatusCode)}
	}
	var ans registrationAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, &fault.Upstream{Message: "the server's registration answer is not the expected JSON", Err: err}
	}
	if strings.TrimSpace(ans.FaspID) == "" || len(ans.FaspID) > 255 {
		return nil, &fault.Upstream{Message: "the server's registration answer has no usable faspId"}
	}
	remote, err := DecodePublicKey(ans.PublicKey)
	if err != nil {
		return nil, &fault.Upstream{Message: "the server's registration answer has an unusable publicKey", Err: err}
	}
	// Mastodon signs this answer with the key it contains (no keyid). That
	// proves only possession, but a broken signature still means tampering.
	if resp.Header.Get("Signature-Input") != "" {
		if err := msgsig.VerifyResponse(resp.StatusCode, resp.Header, body, remote, s.now(), 15*time.Minute); err != nil {
			return nil, &fault.Upstream{Message: "the server's registration answer carries an invalid signature", Err: err}
		}
	}
	if u, err := url.Parse(ans.RegistrationCompletionURI); ans.RegistrationCompletionURI != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http")) {
		ans.RegistrationCompletionURI = ""
	}
	return &ans, nil
}

// discoverBaseURL finds a server's FASP base URL: the explicit one if given,
// else nodeinfo metadata.faspBaseUrl, else https://<host>/api/fasp for
// Mastodon, which does not publish it.
func (s *Service) discoverBaseURL(ctx context.Context, srv *url.URL, explicit string) (base, software string, err error) {
	if explicit != "" {
		u, err := s.http.CheckURL(explicit)
		if err != nil {
			return "", "", &fault.ValidationError{Field: "baseUrl", Message: err.Error()}
		}
		base = strings.TrimSuffix(u.String(), "/")
	}
	ni, niErr := s.fetchNodeinfo(ctx, srv)
	if ni != nil {
		software = strings.ToLower(ni.Software.Name)
	}
	if base != "" {
		return base, software, nil
	}
	if niErr != nil {
		return "", "", &fault.Upstream{Message: "could not read the server's nodeinfo to find its FASP base URL; enter the base URL explicitly", Err: niErr}
	}
	if b := strings.TrimSpace(ni.Metadata.FaspBaseURL); b != "" {
		u, err := s.http.CheckURL(b)
		if err != nil {
			return "", "", &fault.Upstream{Message: "the server's nodeinfo names an unusable faspBaseUrl", Err: err}
		}
		return strings.TrimSuffix(u.String(), "/"), software, nil
	}
	if software == "mastodon" || software == "hometown" || software == "glitch-soc" {
		return srv.Scheme + "://" + srv.Host + "/api/fasp", software, nil
	}
	return "", software, &fault.Upstream{Message: fmt.Sprintf("the server (%s) does not publish a FASP base URL in nodeinfo; enter it explicitly", orUnknown(software))}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown software"
	}
	return s
}

type nodeinfo struct {
	Software struct {
		Name string `json:"name"`
	} `json:"software"`
	Metadata struct {
		FaspBaseURL string `json:"faspBaseUrl"`
	} `json:"metadata"`
}

func (s *Service) fetchNodeinfo(ctx context.Context, srv *url.URL) (*nodeinfo, error) {
	var wk struct {
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := s.getJSON(ctx, srv.Scheme+"://"+srv.Host+"/.well-known/nodeinfo", &wk); err != nil {
		return nil, fmt.Errorf("well-known nodeinfo: %w", err)
	}
	href := ""
	for _, l := range wk.Links {
		if strings.HasPrefix(l.Rel, "http://nodeinfo.diaspora.software/ns/schema/2.") && l.Href != "" {
			href = l.Href // the last listed is usually the newest schema
		}
	}
	if href == "" {
		return nil, errors.New("well-known nodeinfo lists no 2.x schema")
	}
	var ni nodeinfo
	if err := s.getJSON(ctx, href, &ni); err != nil {
		return nil, fmt.Errorf("nodeinfo document: %w", err)
	}
	return &ni, nil
}

func (s *Service) getJSON(ctx context.Context, raw string, v any) error {
	if _, err := s.http.CheckURL(raw); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}
