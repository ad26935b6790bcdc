// Command breakwater is the one binary of Breakwater, a Fediverse Auxiliary
// Service Provider that screens sign-ups and posts for spam: it serves the
// FASP API (serve), upgrades the database (migrate) and carries the
// operator's commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: its one-line summary and its entry point.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, io stdio) error
}

// internalCommands run as child processes of other commands; they are not
// listed in the usage.
func internalCommands() map[string]command {
	return map[string]command{
		"loadtest-ceiling": {"the bare signature-verifying server of loadtest --ceiling", cmdCeilingServer},
	}
}

// stdio carries the process streams so that commands are testable.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the HTTP service", cmdServe},
		"migrate":     {"create or upgrade the database schema", cmdMigrate},
		"servers":     {"manage registered servers (list, show, register, suspend, unsuspend, delete, rotate-key)", cmdServers},
		"secret":      {"generate a value for BREAKWATER_SECRET_KEY, or re-seal stored secrets after rotating it (generate, reseal)", cmdSecret},
		"admins":      {"manage web accounts (create-operator, reset-password, list-operators)", cmdAdmins},
		"version":     {"print the version", cmdVersion},
		"healthcheck": {"probe the local service's /readyz (for container health checks)", cmdHealthcheck},
		"mastodon":    {"connect a server's Mastodon admin webhooks and Admin API (connect, set-secret, status, disconnect)", cmdMastodon},
		"loadtest":    {"load a running service with signed checks from simulated servers and print figures", cmdLoadtest},
		"erase":       {"erase stored data about one person (erasure requests)", cmdErase},
		"data":        {"manage screening data files (disposable e-mail domain list)", cmdData},
		"check":       {"send one sign-up or content check from JSON on standard input (any server software)", cmdCheck},
		"backup":      {"write a consistent copy of the SQLite database while serve runs (PostgreSQL: pg_dump)", cmdBackup},
		"restore":     {"put an SQLite backup in place, after checking it and the secret key (serve stopped)", cmdRestore},
		"campaigns":   {"network-wide spam campaigns (list, show, confirm, dismiss, extend) and where a server's alerts go", cmdCampaigns},
		"simulate":    {"replay the 2023-2024 spam waves with ordinary traffic and report what was caught", cmdSimulate},
	}
}

// errUsage marks a mistake in the command line: exit code 2.
var errUsage = errors.New("usage")

// run is main without os.Exit, so tests can drive every command.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	io := stdio{in: in, out: out, err: errOut}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errOut)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		cmd, ok = internalCommands()[args[0]]
	}
	if !ok {
		fmt.Fprintf(errOut, "breakwater: unknown command %q\n\n", args[0])
		usage(errOut)
		return 2
	}
	if err := cmd.run(ctx, args[1:], io); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(errOut, "breakwater %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: breakwater <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery command reads the same BREAKWATER_* environment variables; run 'breakwater serve --help' for them.")
}

func usageErr(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if strings.HasPrefix(msg, "usage:") { // already says so: "usage: usage: …" otherwise
		return fmt.Errorf("%w%s", errUsage, strings.TrimPrefix(msg, "usage"))
	}
	return fmt.Errorf("%w: %s", errUsage, msg)
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func cmdVersion(_ context.Context, _ []string, io stdio) error {
	fmt.Fprintln(io.out, "breakwater", version)
	return nil
}

func trimAll(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
