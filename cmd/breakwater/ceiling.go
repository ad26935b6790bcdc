package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// The ceiling is what this machine can do for a signed request when nothing
// but the signature is checked: a bare echo handler verifying RFC 9421 with
// the same library, in its own process. loadtest --ceiling measures it with
// the same client and load shape as the real service, so the two figures
// compare in one run.

// cmdCeilingServer is the hidden child process of loadtest --ceiling.
func cmdCeilingServer(ctx context.Context, args []string, io stdio) error {
	fs := flag.NewFlagSet("breakwater loadtest-ceiling", flag.ContinueOnError)
	fs.SetOutput(io.err)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	keysFile := fs.String("keys", "", "JSON file: keyid → base64 public key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*keysFile)
	if err != nil {
		return err
	}
	var b64 map[string]string
	if err := json.Unmarshal(raw, &b64); err != nil {
		return err
	}
	keys := map[string]ed25519.PublicKey{}
	for id, k := range b64 {
		pub, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return err
		}
		keys[id] = pub
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Any("/*", func(c echo.Context) error {
		body, err := io_ReadAll(c.Request().Body, 256<<10)
		if err != nil {
			return c.JSON(http.StatusRequestEntityTooLarge, map[string]string{"error": "too_large"})
		}
		target := "http://" + c.Request().Host + c.Request().URL.RequestURI()
		_, err = msgsig.VerifyRequest(c.Request(), target, body, func(id string) ([]ed25519.PublicKey, error) {
			if k, ok := keys[id]; ok {
				return []ed25519.PublicKey{k}, nil
			}
			return nil, msgsig.ErrUnknownKey
		}, msgsig.VerifyOptions{})
		if err != nil {
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": msgsig.CauseOf(err)})
		}
		return c.JSON(http.StatusOK, map[string]bool{"ok": true})
	})
	fmt.Fprintf(io.out, "listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

func io_ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(b)) > limit {
		return nil, fmt.Errorf("body too large")
	}
	return b, err
}

// startCeiling runs the ceiling server as a child process with n fresh
// keys, and returns a fleet that signs for it.
func startCeiling(ctx context.Context, n int) (*fleet, func(), error) {
	dir, err := os.MkdirTemp("", "breakwater-ceiling")
	if err != nil {
		return nil, nil, err
	}
	f := &fleet{client: newFleetClient()}
	pubs := map[string]string{}
	for i := 0; i < n; i++ {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		id := fmt.Sprintf("ceiling-%d", i)
		pubs[id] = base64.StdEncoding.EncodeToString(pub)
		f.servers = append(f.servers, &fleetServer{Domain: fmt.Sprintf("ceiling%d.example", i), ServerID: id, priv: priv})
	}
	f.skipVerify = true
	b, _ := json.Marshal(pubs)
	keys := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keys, b, 0o600); err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "loadtest-ceiling", "--keys", keys)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.RemoveAll(dir) }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		stop()
		return nil, nil, fmt.Errorf("ceiling server did not start: %q %v", line, err)
	}
	f.target = "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	return f, stop, nil
}
