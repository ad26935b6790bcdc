package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/breakwater-fasp/breakwater/handlers/handlertest"
	"github.com/breakwater-fasp/breakwater/provider/screening"
)

const (
	cliOldSecret      = "cli-old-secret-0123456789abcdefghijklmnopq"
	cliNewSecret      = "cli-new-secret-0123456789abcdefghijklmnopq"
	cliStrangerSecret = "cli-stranger-secret-0123456789abcdefghijkl"
)

// resealLine finds the counts `secret reseal` printed for one kind:
// resealed, already current, failed to open, changed meanwhile.
func resealLine(t *testing.T, out, kind string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(kind) + `\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no line for %s in:\n%s", kind, out)
	}
	return strings.Join(m[1:], " ")
}

// TestSecretRotationCommands walks the documented rotation: data sealed
// under the old key; BREAKWATER_SECRET_KEY=new,old; `secret reseal` turns
// the server key and the Mastodon token and webhook secret over (a second
// run finds them current); an erasure request then still finds the check
// made before the rotation; and with the new key alone everything opens.
// A key that opens nothing makes reseal fail and change nothing.
func TestSecretRotationCommands(t *testing.T) {
	cliEnv(t)
	t.Setenv("BREAKWATER_SECRET_KEY", cliOldSecret)
	ctx := context.Background()
	m := handlertest.NewMastodonAdmin(t)
	m.AddToken("tok-rotation", true, "admin:read:accounts", "admin:write:accounts", "write:reports")
	reg := registerForCLI(t, m.Server.URL)
	if code, _, errOut := runCLI(t, "", "mastodon", "connect", reg.ServerID, "--api-url", m.Server.URL, "--token", "tok-rotation"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	cfg, _, _ := parseFlags("test", nil, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, nil)
	app, err := openApp(ctx, cfg, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.svc.ScreenSignupFor(ctx, reg.ServerID, screening.SignupInput{
		Account: screening.SignupAccount{Username: "rotated", Email: "rotated.person@posteo.de"}, IP: "198.51.100.9"})
	if err != nil {
		t.Fatal(err)
	}
	app.Close(ctx)

	// A key that opens none of it: everything reported, nothing written.
	t.Setenv("BREAKWATER_SECRET_KEY", cliStrangerSecret)
	code, out, errOut := runCLI(t, "", "secret", "reseal")
	if code != 1 || !strings.Contains(errOut, "no configured key opens") || resealLine(t, out, "server-key") != "0 0 1 0" {
		t.Fatalf("reseal with a key that opens nothing: exit %d\n%s%s", code, out, errOut)
	}

	t.Setenv("BREAKWATER_SECRET_KEY", cliNewSecret+","+cliOldSecret)
	code, out, errOut = runCLI(t, "", "secret", "reseal", "--batch", "1")
	if code != 0 || !strings.Contains(out, "(1 older key configured)") {
		t.Fatalf("reseal: exit %d\n%s%s", code, out, errOut)
	}
	for kind, want := range map[string]string{"server-key": "1 0 0 0", "mastodon-token": "1 0 0 0", "mastodon-webhook-secret": "1 0 0 0", "mastodon-event": "0 0 0 0"} {
		if got := resealLine(t, out, kind); got != want {
			t.Errorf("first run, %s: %s, want %s\n%s", kind, got, want, out)
		}
	}
	code, out, errOut = runCLI(t, "", "secret", "reseal")
	if code != 0 || resealLine(t, out, "server-key") != "0 1 0 0" || resealLine(t, out, "mastodon-token") != "0 1 0 0" ||
		resealLine(t, out, "mastodon-webhook-secret") != "0 1 0 0" {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = runCLI(t, "", "erase", "--email", "Rotated.Person@posteo.de"); code != 0 || !strings.Contains(out, "erased the details of 1 checks") {
		t.Fatalf("erasure after the rotation: exit %d %s %s", code, out, errOut)
	}

	// The old key dropped: the server key, token and secret all open.
	t.Setenv("BREAKWATER_SECRET_KEY", cliNewSecret)
	cfg, _, _ = parseFlags("test", nil, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, nil)
	app, err = openApp(ctx, cfg, stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if n, err := app.svc.CheckSecretKey(ctx); err != nil || n != 1 {
		t.Errorf("server keys opened with the new key alone: %d %v", n, err)
	}
	if rec, err := app.svc.GetCheck(ctx, reg.ServerID, res.CheckID); err != nil || !rec.Erased {
		t.Errorf("the check made before the rotation: %+v %v", rec, err)
	}
	code, out, errOut = runCLI(t, "", "secret", "reseal")
	if code != 0 || !strings.Contains(out, "(0 older keys configured)") || resealLine(t, out, "mastodon-token") != "0 1 0 0" ||
		resealLine(t, out, "mastodon-webhook-secret") != "0 1 0 0" {
		t.Fatalf("reseal with the new key alone: exit %d\n%s%s", code, out, errOut)
	}
}
