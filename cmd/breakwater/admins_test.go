package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

// TestAdminsCommand creates an operator from a password on standard input,
// refuses a weak one and a duplicate, resets it, and lists operators.
func TestAdminsCommand(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"--data-dir", dir, "--secret-key", sealbox.Generate(), "--mx-check=false"}
	runCmd := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append(args, flags...), strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, e := runCmd("", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, e)
	}
	if code, _, e := runCmd("short\n", "admins", "create-operator", "ops@example.org"); code != 1 || !strings.Contains(e, "at least 10 characters") {
		t.Errorf("weak password: %d %s", code, e)
	}
	if code, out, e := runCmd("operator passphrase\n", "admins", "create-operator", "Ops@Example.org"); code != 0 || !strings.Contains(out, "/login") {
		t.Fatalf("create-operator: %d %s %s", code, out, e)
	}
	if code, _, e := runCmd("operator passphrase\n", "admins", "create-operator", "ops@example.org"); code != 1 || !strings.Contains(e, "exists") {
		t.Errorf("duplicate: %d %s", code, e)
	}
	if code, _, e := runCmd("", "admins", "create-operator", "x@example.org"); code != 1 || !strings.Contains(e, "empty") {
		t.Errorf("no password: %d %s", code, e)
	}
	if code, out, e := runCmd("a whole new passphrase\n", "admins", "reset-password", "ops@example.org"); code != 0 || !strings.Contains(out, "signed out") {
		t.Errorf("reset-password: %d %s %s", code, out, e)
	}
	if code, _, e := runCmd("a whole new passphrase\n", "admins", "reset-password", "nobody@example.org"); code != 1 || !strings.Contains(e, "not found") {
		t.Errorf("reset unknown: %d %s", code, e)
	}
	if code, out, _ := runCmd("", "admins", "list-operators"); code != 0 || !strings.Contains(out, "ops@example.org") || !strings.Contains(out, "never") {
		t.Errorf("list: %d %s", code, out)
	}
	if code, _, _ := runCmd("", "admins", "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: %d, want 2", code)
	}
	if code, _, e := runCmd("", "admins", "list-operators", "--registration-mode", "sometimes"); code != 2 || !strings.Contains(e, "registration mode") {
		t.Errorf("bad registration mode: %d %s", code, e)
	}
}
