package handlertest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/handlers"
	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/models/testdb"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// TestSecret is the secret key test apps use.
const TestSecret = "test-secret-key-0123456789abcdefghijklmnopqrstuv"

// App is a complete Breakwater on a real database behind a real listener.
type App struct {
	URL     string
	DB      *models.DB
	Svc     *provider.Service
	Echo    *echo.Echo
	Engine  *screening.Engine
	Box     *sealbox.Box
	Server  *httptest.Server
	Options provider.Options
	Logs    *LogBuffer
}

// Config adjusts an App before it starts.
type Config struct {
	Provider func(*provider.Options)
	Engine   func(*screening.Options)
	Handlers func(*handlers.Options)
}

// NewApp starts Breakwater on tg. Outbound fetches may reach loopback, where
// the fake fediverse servers listen.
func NewApp(t testing.TB, tg testdb.Target, cfg Config) *App {
	t.Helper()
	ctx := context.Background()
	logs := &LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db, err := models.Open(ctx, models.Options{URL: tg.URL, SQLitePath: tg.Path, Logger: log})
	if err != nil {
		t.Fatalf("open %s: %v", tg.Name, err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", tg.Name, err)
	}
	box, err := sealbox.Load(TestSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	pub, _ := url.Parse("http://" + srv.Listener.Addr().String())
	eopts := screening.Options{HashKey: []byte(box.Hash("engine-hash-key", "v1"))}
	if cfg.Engine != nil {
		cfg.Engine(&eopts)
	}
	engine, err := screening.New(eopts)
	if err != nil {
		t.Fatal(err)
	}
	popts := provider.Options{PublicURL: pub, Name: "Breakwater Test", ContactEmail: "ops@breakwater.test", Logger: log}
	if cfg.Provider != nil {
		cfg.Provider(&popts)
	}
	client := netguard.New(netguard.Options{AllowedRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Timeout: 5 * time.Second})
	svc, err := provider.New(popts, db, box, client, engine)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hopts := handlers.Options{Logger: log}
	if cfg.Handlers != nil {
		cfg.Handlers(&hopts)
	}
	e, _, err := handlers.New(svc, hopts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = e
	srv.Start()
	a := &App{URL: srv.URL, DB: db, Svc: svc, Echo: e, Engine: engine, Box: box, Server: srv, Options: popts, Logs: logs}
	t.Cleanup(func() {
		srv.Close()
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = svc.Close(cctx)
		_ = db.Close()
	})
	return a
}

// Register registers the fake server with the app, confirms it on the fake's
// side (the admin pressing Confirm) and returns the stored provider row.
func (a *App) Register(t testing.TB, m *Mastodon) (*provider.Registration, *FaspProvider) {
	t.Helper()
	reg, err := a.Svc.Register(context.Background(), provider.RegisterInput{ServerURL: m.Server.URL})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	ps := m.Providers()
	p := ps[len(ps)-1]
	m.Confirm(p)
	return reg, p
}

// Activate enables capabilities the way Mastodon's admin page does.
func (a *App) Activate(t testing.TB, m *Mastodon, p *FaspProvider, caps ...string) {
	t.Helper()
	for _, c := range caps {
		if r := m.Call(t, p, "POST", "/capabilities/"+c+"/0/activation", nil); r.Status != 204 {
			t.Fatalf("activate %s: %d %s", c, r.Status, r.Body)
		}
	}
}

// LogBuffer collects log output so tests can check what was (not) logged.
type LogBuffer struct {
	mu  syncMutex
	buf []byte
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

var _ io.Writer = (*LogBuffer)(nil)
