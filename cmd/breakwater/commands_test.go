package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

func TestUsageAndConfigErrors(t *testing.T) {
	cliEnv(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage: breakwater"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"serve", "--listen", "nohost"}, 2, "listen address"},
		{[]string{"serve", "--public-url", "ftp://x"}, 2, "must start with https://"},
		{[]string{"serve", "--database-url", "mysql://x"}, 2, "postgres://"},
		{[]string{"serve", "--allow-private-ranges", "10.0.0.0/33"}, 2, "allowed private ranges"},
		{[]string{"serve", "--signature-max-age", "2h"}, 2, "between 10s and 1h"},
		{[]string{"serve", "--pprof-listen", "0.0.0.0:6060"}, 2, "loopback"},
		{[]string{"serve", "--engine-memory", "lots"}, 2, "want a size such as 512MiB"},
		{[]string{"serve", "--engine-memory", "2MiB"}, 2, "at least 4MiB"},
		{[]string{"servers", "delete", "x"}, 2, "--yes"},
		{[]string{"erase"}, 2, "usage: breakwater erase"},
		{[]string{"servers"}, 2, "breakwater servers list"},
		{[]string{"backup"}, 2, "usage: breakwater backup"},
		{[]string{"secret"}, 2, "breakwater secret reseal"},
		{[]string{"secret", "rotate"}, 2, "breakwater secret generate"},
		{[]string{"secret", "reseal", "extra"}, 2, "breakwater secret reseal"},
		{[]string{"secret", "reseal", "--batch", "0"}, 2, "breakwater secret reseal"},
		{[]string{"version"}, 0, "breakwater"},
	}
	for _, tc := range cases {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, out+errOut, tc.code, tc.want)
		}
		if strings.Contains(errOut, "usage: usage:") {
			t.Errorf("%v: %q says usage twice", tc.args, errOut)
		}
	}
	// Every documented variable shows in serve --help.
	_, _, help := runCLI(t, "", "serve", "--help")
	for _, env := range []string{"BREAKWATER_LISTEN", "BREAKWATER_PUBLIC_URL", "BREAKWATER_DATABASE_URL", "BREAKWATER_DATA_DIR",
		"BREAKWATER_SECRET_KEY", "BREAKWATER_ALLOW_PRIVATE_RANGES", "BREAKWATER_MAX_IN_FLIGHT", "BREAKWATER_RATE_LIMIT",
		"BREAKWATER_ENGINE_MEMORY"} {
		if !strings.Contains(help, env) {
			t.Errorf("serve --help does not document %s", env)
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true}, {"2GiB", 2 << 30, true}, {"64 KiB", 64 << 10, true}, {"1048576", 1 << 20, true},
		{"", 0, false}, {"MiB", 0, false}, {"-1MiB", 0, false}, {"1.5GiB", 0, false}, {"512MB", 0, false},
		{"9999999999GiB", 0, false},
	}
	for _, c := range cases {
		got, err := parseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestDisposableListCommands(t *testing.T) {
	cliEnv(t)
	var b strings.Builder
	b.WriteString("# test list\n")
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&b, "throwaway%d.example\n", i)
	}
	file := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "", "data", "disposable-update", file); code != 0 || !strings.Contains(out, "installed 150") {
		t.Fatalf("update: %d %s %s", code, out, errOut)
	}
	if _, out, _ := runCLI(t, "", "data", "disposable-status"); !strings.Contains(out, "150 domains") {
		t.Fatalf("status after update: %s", out)
	}
	// The engine of a new process uses the installed list.
	ctx := context.Background()
	cfg, _, _ := parseFlags("test", nil, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, nil)
	if list, err := loadDisposable(cfg); err != nil || len(list) != 150 {
		t.Fatalf("installed list: %d %v", len(list), err)
	}
	_ = ctx
	short := filepath.Join(t.TempDir(), "short.txt")
	_ = os.WriteFile(short, []byte("a.example\n"), 0o600)
	if code, _, errOut := runCLI(t, "", "data", "disposable-update", short); code == 0 || !strings.Contains(errOut, "refusing") {
		t.Fatalf("a one-line list replaced the shipped one: %s", errOut)
	}
	if _, out, _ := runCLI(t, "", "data", "disposable-reset"); !strings.Contains(out, "shipped in the binary") {
		t.Fatalf("reset: %s", out)
	}
}

// TestEraseCommand: an erasure request by e-mail removes the details of the
// person's sign-up checks on every server.
func TestEraseCommand(t *testing.T) {
	cliEnv(t)
	ctx := context.Background()
	m := handlertest.NewMastodon(t)
	reg := registerForCLI(t, m.Server.URL)
	cfg, _, _ := parseFlags("test", nil, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, nil)
	app, err := openApp(ctx, cfg, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.svc.ScreenSignupFor(ctx, reg.ServerID, screening.SignupInput{
		Account: screening.SignupAccount{Username: "erase_me", Email: "Erase.Me@posteo.de"}, IP: "198.51.100.4"})
	if err != nil {
		t.Fatal(err)
	}
	app.Close(ctx)
	code, out, errOut := runCLI(t, "", "erase", "--email", "erase.me@posteo.de")
	if code != 0 || !strings.Contains(out, "erased the details of 1 checks") {
		t.Fatalf("erase: %d %s %s", code, out, errOut)
	}
	app, err = openApp(ctx, cfg, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	rec, err := app.svc.GetCheck(ctx, reg.ServerID, res.CheckID)
	if err != nil || !rec.Erased {
		t.Fatalf("check after erasure: %+v %v", rec, err)
	}
}
