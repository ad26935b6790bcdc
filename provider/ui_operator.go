package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
)

// RemoveServer deletes a server, everything stored about it, and the web
// accounts of its admins (whose sessions end with them).
func (s *Service) RemoveServer(ctx context.Context, serverID string) error {
	if err := s.DeleteServer(ctx, serverID); err != nil {
		return err
	}
	if err := s.db.DeleteServerAccounts(ctx, serverID); err != nil {
		return fmt.Errorf("delete accounts of server %s: %w", serverID, err)
	}
	s.opts.Logger.InfoContext(ctx, "server removed", "server_id", serverID)
	return nil
}

// Health is the operator's view of the system.
type Health struct {
	DatabaseOK      bool
	DatabaseError   string
	DatabaseLatency time.Duration
	Dialect         string
	SchemaVersion   int
	Counts          models.NetworkCounts
	// CallbacksInFlight is the background queue: outbound debug callbacks
	// and e-mails running now, out of CallbackSlots.
	CallbacksInFlight int
	CallbackSlots     int
	RegistrationMode  string
	MailEnabled       bool
	CheckedAt         time.Time
}

// Health measures the database and the background queue. A database
// failure is reported in the result, not as an error, so the page still
// renders while the database is down.
func (s *Service) Health(ctx context.Context) Health {
	h := Health{Dialect: s.db.Dialect, CallbacksInFlight: len(s.bgSlots), CallbackSlots: cap(s.bgSlots),
		RegistrationMode: s.opts.RegistrationMode, MailEnabled: s.MailEnabled(), CheckedAt: s.now()}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.db.Ping(pctx); err != nil {
		h.DatabaseError = "the database does not answer"
		s.opts.Logger.WarnContext(ctx, "health: database ping failed", "error", err)
		return h
	}
	h.DatabaseLatency = time.Since(start)
	h.DatabaseOK = true
	if v, err := s.db.SchemaVersion(pctx); err == nil {
		h.SchemaVersion = v
	}
	counts, err := s.db.CountNetwork(pctx, s.now())
	if err != nil {
		h.DatabaseError = "counting failed"
		s.opts.Logger.WarnContext(ctx, "health: counts failed", "error", err)
	}
	h.Counts = counts
	return h
}

// PruneWebState removes expired sessions, reset tokens and stale sign-in
// throttles.
func (s *Service) PruneWebState(ctx context.Context) error {
	if err := s.db.PruneSessions(ctx, s.now()); err != nil {
		return fmt.Errorf("prune web state: %w", err)
	}
	return nil
}

// ServerRow is one registered server on the operator's board.
type ServerRow struct {
	ServerInfo
	Quota Quota
}

// ServerBoard is the operator's list: requests waiting for approval and
// every registered server with this month's usage.
type ServerBoard struct {
	Pending []PendingInfo
	Servers []ServerRow
}

// ServerBoard gathers the operator's server list.
func (s *Service) ServerBoard(ctx context.Context) (*ServerBoard, error) {
	pending, err := s.PendingRegistrations(ctx)
	if err != nil {
		return nil, err
	}
	servers, err := s.ListServers(ctx)
	if err != nil {
		return nil, err
	}
	usage, err := s.NetworkUsage(ctx)
	if err != nil {
		return nil, err
	}
	quota := map[string]Quota{}
	for _, u := range usage {
		quota[u.ServerID] = u.Quota
	}
	b := &ServerBoard{Pending: pending, Servers: make([]ServerRow, len(servers))}
	for i, srv := range servers {
		b.Servers[i] = ServerRow{ServerInfo: srv, Quota: quota[srv.ID]}
	}
	return b, nil
}

// ServerDetail is one server as the operator manages it.
type ServerDetail struct {
	Server ServerInfo
	Quota  Quota
	Usage  []UsageRow
	Admins []AccountInfo
}

// ServerDetail gathers one server's page for the operator.
func (s *Service) ServerDetail(ctx context.Context, serverID string, days int) (*ServerDetail, error) {
	srv, err := s.GetServer(ctx, serverID)
	if err != nil {
		return nil, err
	}
	q, err := s.QuotaStatus(ctx, serverID)
	if err != nil {
		return nil, err
	}
	usage, err := s.Usage(ctx, serverID, days)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.ListAccounts(ctx, serverID)
	if err != nil {
		return nil, fmt.Errorf("list admins of %s: %w", serverID, err)
	}
	d := &ServerDetail{Server: *srv, Quota: q, Usage: usage}
	for _, r := range rows {
		d.Admins = append(d.Admins, AccountInfo{Email: r.Email, Role: r.Role, ServerID: r.ServerID, LastLoginAt: r.LastLoginAt, CreatedAt: r.CreatedAt})
	}
	return d, nil
}
