package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// App is what every command works with: the configuration, the database and
// the provider built on them.
type App struct {
	cfg *config
	log *slog.Logger
	db  *models.DB
	box *sealbox.Box
	svc *provider.Service
}

// openApp opens the database (migrating it when migrate is set), loads the
// secret key and builds the provider.
func openApp(ctx context.Context, cfg *config, io stdio, migrate bool) (*App, error) {
	log := cfg.logger(io.err)
	box, err := loadSecret(cfg, log)
	if err != nil {
		return nil, err
	}
	db, err := models.Open(ctx, models.Options{URL: cfg.DatabaseURL, SQLitePath: cfg.sqlitePath(), Logger: log})
	if err != nil {
		return nil, err
	}
	if migrate {
		ran, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		if len(ran) > 0 {
			log.Info("database migrated", "applied", ran, "dialect", db.Dialect)
		}
	} else if pending, err := db.PendingMigrations(ctx); err != nil || len(pending) > 0 {
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("read schema version: %w", err)
		}
		return nil, fmt.Errorf("the database lacks schema steps %v: run 'breakwater migrate' (serve does it at start)", pending)
	}
	client := netguard.New(netguard.Options{AllowedRanges: cfg.allowRanges, UserAgent: "Breakwater/" + version + " (+" + cfg.publicURL.String() + ")"})
	var resolver screening.MXResolver
	if cfg.MXCheck {
		resolver = net.DefaultResolver
	}
	disposable, err := loadDisposable(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	engine, err := screening.New(screening.Options{HashKey: []byte(box.Hash("engine-hash-key", "v1")), Resolver: resolver,
		DisposableDomains: disposable, MemoryBudget: cfg.engineMemory / 8 * 7})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("build screening engine: %w", err)
	}
	svc, err := provider.New(provider.Options{
		PublicURL:        cfg.publicURL,
		Name:             cfg.Name,
		ContactEmail:     cfg.ContactEmail,
		FediverseAccount: cfg.FediverseAccount,
		SignatureMaxAge:  cfg.SignatureMaxAge,
		KeyGrace:         cfg.KeyGrace,
		RatePerSecond:    cfg.RateLimit,
		RateBurst:        cfg.RateBurst,
		Retention:        cfg.Retention,
		DatabaseURL:      cfg.DatabaseURL,
		RegistrationMode: cfg.RegistrationMode,
		InviteCode:       cfg.InviteCode,
		SMTPURL:          cfg.SMTPURL,
		SMTPFrom:         cfg.SMTPFrom,
		PrivacyPolicyURL: cfg.PrivacyPolicyURL,
		PrivacyNote:      cfg.privacyNote,
		Logger:           log,
		Campaigns:        provider.CampaignOptions{MemoryBudget: cfg.engineMemory / 8},
	}, db, box, client, engine)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &App{cfg: cfg, log: log, db: db, box: box, svc: svc}, nil
}

func (a *App) Close(ctx context.Context) {
	if err := a.svc.Close(ctx); err != nil {
		a.log.Warn("shutdown", "error", err)
	}
	if err := a.db.Close(); err != nil {
		a.log.Warn("close database", "error", err)
	}
}

// loadSecret reads BREAKWATER_SECRET_KEY, or the key file, creating the file
// with a fresh secret on a first run so that 'breakwater serve' needs no set-up.
func loadSecret(cfg *config, log *slog.Logger) (*sealbox.Box, error) {
	if cfg.SecretKey != "" {
		return sealbox.Load(cfg.SecretKey, "")
	}
	file := cfg.SecretKeyFile
	if file == "" {
		file = filepath.Join(cfg.DataDir, "secret.key")
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if cfg.SecretKeyFile != "" {
			return nil, fmt.Errorf("secret key file %s does not exist", file)
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		if err := os.WriteFile(file, []byte(sealbox.Generate()+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write new secret key: %w", err)
		}
		log.Warn("generated a new secret key; back it up: without it stored private keys cannot be opened", "file", file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	return sealbox.Load(strings.TrimSpace(string(b)), "")
}
