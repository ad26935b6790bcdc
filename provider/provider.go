// Package provider is Breakwater's domain: registration of customer servers,
// request authentication, capabilities, the debug callback and screening. It
// knows nothing of echo or HTTP status codes; it returns typed errors from
// provider/fault that the HTTP layer maps in one place.
package provider

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/campaigns"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// Options configures the provider. cmd fills it from flags and environment.
type Options struct {
	// PublicURL is the base URL servers reach Breakwater at and sign against.
	PublicURL *url.URL
	// Name is shown to server admins in provider_info and at registration.
	Name             string
	ContactEmail     string
	FediverseAccount string
	// PrivacyPolicyURL overrides the built-in privacy page's address.
	PrivacyPolicyURL string
	// SignInURL is advertised in provider_info when admins can sign in.
	SignInURL string
	// SignatureMaxAge bounds how old (and how far in the future) a request's
	// created parameter may be; it is also how long replays are remembered.
	SignatureMaxAge time.Duration
	// KeyGrace is how long an old key stays valid after a rotation.
	KeyGrace time.Duration
	// RatePerSecond and RateBurst bound each server's request rate.
	RatePerSecond float64
	RateBurst     int
	// CallbackConcurrency bounds outbound debug callbacks in flight.
	CallbackConcurrency int
	// Retention is how long check details are kept.
	Retention time.Duration
	// DatabaseURL, for PostgreSQL, lets replicas follow each other's checks
	// with LISTEN/NOTIFY; empty on SQLite.
	DatabaseURL string
	// RegistrationMode says who may register a server through the web form:
	// "open", "approval" (the operator approves each request), "invite"
	// (InviteCode is required) or "closed". Default "approval".
	RegistrationMode string
	InviteCode       string
	// SMTPURL (smtp://user:pass@host:port, or smtps:// for implicit TLS)
	// sends password resets and notices; empty disables e-mail.
	SMTPURL  string
	SMTPFrom string
	// PrivacyNote is the operator's own text for the privacy page (the
	// controller's name, jurisdiction...), shown below the built-in policy;
	// blank lines separate paragraphs.
	PrivacyNote string
	// SessionTTL bounds a sign-in (default 12h); SessionIdle ends one left
	// unused (default 2h).
	SessionTTL  time.Duration
	SessionIdle time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
	// Campaigns tunes network-wide campaigns, the server feed and alerts
	// (campaigns.go); the zero value means the defaults.
	Campaigns CampaignOptions
}

func (o *Options) setDefaults() error {
	if o.PublicURL == nil || o.PublicURL.Host == "" {
		return errors.New("provider: PublicURL with a host is required")
	}
	if o.Name == "" {
		o.Name = "Breakwater"
	}
	if o.SignatureMaxAge <= 0 {
		o.SignatureMaxAge = 300 * time.Second
	}
	if o.KeyGrace <= 0 {
		o.KeyGrace = 7 * 24 * time.Hour
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 200
	}
	if o.RateBurst <= 0 {
		o.RateBurst = int(2 * o.RatePerSecond)
	}
	if o.CallbackConcurrency <= 0 {
		o.CallbackConcurrency = 16
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o.webDefaults()
}

// Service is the provider's use cases over one database.
type Service struct {
	opts    Options
	db      *models.DB
	box     *sealbox.Box
	http    *netguard.Client
	engine  *screening.Engine
	keys    *keyCache
	limiter *rateLimiter
	// background work (debug callbacks) that must finish before shutdown
	bg       sync.WaitGroup
	bgSlots  chan struct{}
	bgCtx    context.Context
	bgCancel context.CancelFunc
	policies policyCache
	jobs     sync.WaitGroup
	stopJobs chan struct{}
	stopOnce sync.Once
	// replica identifies this process in notifications to other replicas.
	replica    string
	seen       *idSet
	stopListen context.CancelFunc
	usage      *usageCounter
	writer     *models.CheckWriter
	sigs       *models.SignatureRecorder
	notes      pendingNotes
	// learnDirty is signalled when learned state should be saved soon.
	learnDirty chan struct{}
	// web is the web interface's in-memory state (sign-in throttles).
	web webState
	// camp is the network-wide campaign tracker, feed and alerts
	// (campaigns.go).
	camp *campaignState
}

// New builds a Service. The engine may be nil for commands that only manage
// servers.
func New(opts Options, db *models.DB, box *sealbox.Box, client *netguard.Client, engine *screening.Engine) (*Service, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if db == nil || box == nil || client == nil {
		return nil, errors.New("provider: database, secret box and HTTP client are required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		opts:       opts,
		db:         db,
		box:        box,
		http:       client,
		engine:     engine,
		keys:       newKeyCache(10 * time.Second),
		limiter:    newRateLimiter(opts.RatePerSecond, opts.RateBurst),
		bgSlots:    make(chan struct{}, opts.CallbackConcurrency),
		bgCtx:      ctx,
		bgCancel:   cancel,
		policies:   policyCache{m: map[string]policyEntry{}},
		learnDirty: make(chan struct{}, 1),
		stopJobs:   make(chan struct{}),
		replica:    newReplicaID(),
		seen:       newIDSet(200_000),
		usage:      newUsageCounter(),
		writer:     models.NewCheckWriter(db, 0, 0),
		sigs:       models.NewSignatureRecorder(db),
	}
	camp, err := newCampaignState(s) // campaigns.go: the tracker and the engine's campaign lookup
	if err != nil {
		cancel()
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	s.camp = camp
	return s, nil
}

// Close waits for background work (outbound callbacks) up to ctx's deadline,
// then cancels what is left.
func (s *Service) Close(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.writer.Close()
		s.sigs.Close()
		close(s.stopJobs)
		if s.stopListen != nil {
			s.stopListen()
		}
	})
	s.jobs.Wait()
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
		s.bgCancel()
		return nil
	case <-ctx.Done():
		s.bgCancel()
		<-done
		return fmt.Errorf("background work cancelled at shutdown: %w", ctx.Err())
	}
}

// Ready reports whether the database answers.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// PublicURL is the configured public base URL.
func (s *Service) PublicURL() *url.URL { return s.opts.PublicURL }

// now is the injected clock in UTC.
func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// goBackground runs fn without holding up the caller, bounded by the
// callback concurrency; when every slot is busy the work is refused rather
// than queued without limit.
func (s *Service) goBackground(fn func(ctx context.Context)) bool {
	select {
	case s.bgSlots <- struct{}{}:
	default:
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer func() { <-s.bgSlots }()
		fn(s.bgCtx)
	}()
	return true
}

// dbErr turns storage errors into domain errors.
func dbErr(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, fault.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// EngineStats is the screening engine's memory use, for metrics.
func (s *Service) EngineStats() screening.Stats { return s.engine.Stats() }

// CampaignStats is the campaign tracker's candidate counts, for metrics;
// false when campaigns are off.
func (s *Service) CampaignStats() (campaigns.Stats, bool) {
	if s.camp == nil {
		return campaigns.Stats{}, false
	}
	return s.camp.tr.Stats(), true
}

// DBStats is the main connection pool's statistics, for metrics.
func (s *Service) DBStats() (sql.DBStats, bool) {
	db, err := s.db.SQLDB()
	if err != nil {
		return sql.DBStats{}, false
	}
	return db.Stats(), true
}
