package provider

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
)

// ServerKeyInfo describes one key exchange without secrets.
type ServerKeyInfo struct {
	ID            uint64     `json:"id"`
	Fingerprint   string     `json:"fingerprint"`
	FaspID        string     `json:"faspId"`
	State         string     `json:"state"`
	RetireAt      *time.Time `json:"retireAt,omitempty"`
	CompletionURI string     `json:"registrationCompletionUri,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
}

// ServerInfo is what the operator sees about a registered server.
type ServerInfo struct {
	ID           string          `json:"serverId"`
	Domain       string          `json:"domain"`
	ServerURL    string          `json:"serverUrl"`
	BaseURL      string          `json:"baseUrl"`
	Software     string          `json:"software,omitempty"`
	Status       string          `json:"status"`
	ConfirmedAt  *time.Time      `json:"confirmedAt,omitempty"`
	CreatedAt    time.Time       `json:"createdAt"`
	Capabilities []string        `json:"capabilities"`
	Keys         []ServerKeyInfo `json:"keys,omitempty"`
}

func serverInfo(s *models.Server) ServerInfo {
	return ServerInfo{ID: s.ID, Domain: s.Domain, ServerURL: s.ServerURL, BaseURL: s.BaseURL, Software: s.Software,
		Status: s.Status, ConfirmedAt: s.ConfirmedAt, CreatedAt: s.CreatedAt, Capabilities: []string{}}
}

// ListServers lists registered servers for the operator.
func (s *Service) ListServers(ctx context.Context) ([]ServerInfo, error) {
	rows, err := s.db.ListServers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	out := make([]ServerInfo, len(rows))
	for i := range rows {
		out[i] = serverInfo(&rows[i])
		acts, err := s.db.Activations(ctx, rows[i].ID)
		if err != nil {
			return nil, fmt.Errorf("list activations of %s: %w", rows[i].ID, err)
		}
		for _, a := range acts {
			out[i].Capabilities = append(out[i].Capabilities, a.Capability)
		}
	}
	return out, nil
}

// GetServer shows one server with its keys' fingerprints.
func (s *Service) GetServer(ctx context.Context, serverID string) (*ServerInfo, error) {
	row, err := s.db.GetServer(ctx, serverID)
	if err != nil {
		return nil, dbErr("load server "+serverID, err)
	}
	info := serverInfo(row)
	acts, err := s.db.Activations(ctx, serverID)
	if err != nil {
		return nil, fmt.Errorf("list activations of %s: %w", serverID, err)
	}
	for _, a := range acts {
		info.Capabilities = append(info.Capabilities, a.Capability)
	}
	keys, err := s.db.AllKeys(ctx, serverID)
	if err != nil {
		return nil, fmt.Errorf("list keys of %s: %w", serverID, err)
	}
	for _, k := range keys {
		fp := ""
		if pub, err := DecodePublicKey(k.PublicKey); err == nil {
			fp = Fingerprint(ed25519.PublicKey(pub))
		}
		info.Keys = append(info.Keys, ServerKeyInfo{ID: k.ID, Fingerprint: fp, FaspID: k.FaspID, State: k.State,
			RetireAt: k.RetireAt, CompletionURI: k.CompletionURI, CreatedAt: k.CreatedAt})
	}
	return &info, nil
}

// SuspendServer stops a server's requests (403) without deleting anything.
func (s *Service) SuspendServer(ctx context.Context, serverID string, suspended bool) error {
	status := models.ServerActive
	if suspended {
		status = models.ServerSuspended
	}
	if err := s.db.SetServerStatus(ctx, serverID, status); err != nil {
		return dbErr("set status of server "+serverID, err)
	}
	s.keys.drop(serverID)
	return nil
}

// DeleteServer removes a server and everything stored about it.
func (s *Service) DeleteServer(ctx context.Context, serverID string) error {
	if err := s.db.DeleteServer(ctx, serverID); err != nil {
		return dbErr("delete server "+serverID, err)
	}
	s.keys.drop(serverID)
	return nil
}
