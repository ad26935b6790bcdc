package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/breakwater-fasp/breakwater/provider/signals"
)

const dataUsage = `usage:
  breakwater data disposable-update <file>   install a newer disposable e-mail domain list (one domain per line, # comments)
  breakwater data disposable-status          say which list is in use and how many domains it has
  breakwater data disposable-reset           go back to the list shipped in the binary`

// disposableFile is where an operator-installed list lives; serve prefers
// it to the embedded one.
func disposableFile(cfg *config) string { return filepath.Join(cfg.DataDir, "disposable_domains.txt") }

// loadDisposable returns the installed list, or nil for the embedded one.
func loadDisposable(cfg *config) ([]string, error) {
	f, err := os.Open(disposableFile(cfg))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list, err := signals.LoadDomainList(f)
	if err != nil {
		return nil, fmt.Errorf("installed disposable domain list %s: %w", disposableFile(cfg), err)
	}
	return list, nil
}

// cmdData manages data files the screening engine uses. The list ships
// with the binary (CC0, from the disposable-email-domains project); this
// replaces it without a new release. Restart serve to apply.
func cmdData(_ context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		return usageErr(dataUsage)
	}
	cfg, pos, err := parseFlags("data "+args[0], args[1:], io, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	switch args[0] {
	case "disposable-update":
		if len(pos) != 1 {
			return usageErr(dataUsage)
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		list, err := signals.LoadDomainList(f)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		if len(list) < 100 {
			return fmt.Errorf("%s has only %d domains; refusing to replace the shipped list with so short a one", pos[0], len(list))
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return err
		}
		tmp := disposableFile(cfg) + ".tmp"
		if err := os.WriteFile(tmp, []byte(strings.Join(list, "\n")+"\n"), 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, disposableFile(cfg)); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "installed %d disposable domains in %s; restart serve to apply\n", len(list), disposableFile(cfg))
		return nil
	case "disposable-status":
		list, err := loadDisposable(cfg)
		if err != nil {
			return err
		}
		if list == nil {
			fmt.Fprintf(io.out, "using the list shipped in the binary: %d domains\n", len(signals.DefaultDisposableDomains()))
			return nil
		}
		fmt.Fprintf(io.out, "using %s: %d domains\n", disposableFile(cfg), len(list))
		return nil
	case "disposable-reset":
		if err := os.Remove(disposableFile(cfg)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		fmt.Fprintln(io.out, "using the list shipped in the binary; restart serve to apply")
		return nil
	}
	return usageErr(dataUsage)
}
