package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/breakwater-fasp/breakwater/handlers"
)

func cmdServe(ctx context.Context, args []string, io stdio) error {
	cfg, _, err := parseFlags("serve", args, io, nil)
	if err != nil {
		return err
	}
	app, err := openApp(ctx, cfg, io, true)
	if err != nil {
		return err
	}
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
