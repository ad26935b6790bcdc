package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers"
)

func cmdServe(ctx context.Context, args []string, io stdio) error {
	cfg, _, err := parseFlags("serve", args, io, nil)
	if err != nil {
		return err
	}
	gc := applyGCPolicy(os.Getenv, cfg.engineMemory)
	app, err := openApp(ctx, cfg, io, true)
	if err != nil {
		return err
	}
	app.log.Info("garbage collector", "gc_percent", gc.percent, "soft_memory_limit_bytes", gc.limit, "from", gc.from)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		app.Close(sctx)
	}()
	if err := app.svc.Start(ctx); err != nil {
		return err
	}
	e, _, err := handlers.New(app.svc, handlers.Options{
		MaxBodyBytes:   cfg.MaxBodyBytes,
		MaxInFlight:    cfg.MaxInFlight,
		TrustedProxies: cfg.trustedProxies,
		Logger:         app.log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	app.log.Info("breakwater listening", "address", ln.Addr().String(), "public_url", cfg.publicURL.String(),
		"database", app.db.Dialect, "version", version)
	if cfg.PprofListen != "" {
		go servePprof(cfg.PprofListen, app)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	app.log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// servePprof exposes Go's profiling endpoints on a separate loopback
// listener, for operators diagnosing performance.
func servePprof(addr string, app *App) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	app.log.Info("profiling endpoints listening", "address", addr)
	if err := srv.ListenAndServe(); err != nil {
		app.log.Error("profiling listener", "error", err)
	}
}

// gcPolicy is how serve sets Go's garbage collector.
type gcPolicy struct {
	percent int   // GOGC
	limit   int64 // GOMEMLIMIT, bytes
	from    string
}

// Defaults for the collector when the operator sets neither GOGC nor
// GOMEMLIMIT. The engine's budget bounds what is live, so the process can
// be given a soft memory limit of twice the budget plus room for requests
// in flight and fixed tables (what operations.md tells operators to give
// the container) and, within it, a lazier collector: GOGC=200 collects
// half as often as Go's default, which under load was several percent of
// the service's CPU, and the limit makes it collect sooner only when the
// heap nears the limit (a full budget then collects about as often as
// GOGC=100 would).
const (
	defaultGCPercent = 200
	gcLimitHeadroom  = 256 << 20
)

// applyGCPolicy sets the collector from the engine budget unless GOGC or
// GOMEMLIMIT is in the environment, in which case Go's own reading of them
// stands untouched.
func applyGCPolicy(getenv func(string) string, engineMemory int64) gcPolicy {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		percent := debug.SetGCPercent(-1) // read it (this turns the collector off) ...
		debug.SetGCPercent(percent)       // ... and put it back
		return gcPolicy{percent: percent, limit: debug.SetMemoryLimit(-1), from: "GOGC/GOMEMLIMIT"}
	}
	p := gcPolicy{percent: defaultGCPercent, limit: 2*engineMemory + gcLimitHeadroom, from: "engine memory budget"}
	debug.SetGCPercent(p.percent)
	debug.SetMemoryLimit(p.limit)
	return p
}
