package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
	"github.com/breakwater-fasp/breakwater/provider/netguard"
)

// fleet is a set of simulated fediverse servers for loadtest and simulate.
// Each answers FASP registration on its own loopback address the way
// Mastodon does, is registered with Breakwater through the ordinary path,
// activates the screening capabilities, and then signs its checks like a
// real server.
type fleet struct {
	target string // Breakwater's base URL as the servers call it
	// skipVerify is set for the ceiling server, which does not sign answers.
	skipVerify bool
	client     *http.Client
	servers    []*fleetServer
	ln         []net.Listener
	srv        []*http.Server
}

type fleetServer struct {
	Domain      string
	ServerID    string
	FaspID      string
	priv        ed25519.PrivateKey
	providerPub ed25519.PublicKey
	mu          sync.Mutex
}

// newFleet starts n fake servers (each on its own 127.0.0.x address, so each
// has its own domain) and registers them with app.
func newFleet(ctx context.Context, app *App, target string, n int) (*fleet, error) {
	if n < 1 || n > 250 {
		return nil, usageErr("the number of servers must be between 1 and 250")
	}
	f := &fleet{target: strings.TrimSuffix(target, "/"), client: newFleetClient()}
	// Registration calls go to our own loopback fleet, so this tool's client
	// may reach 127.0.0.0/8 whatever the service's own policy is.
	reg, err := provider.New(provider.Options{PublicURL: app.cfg.publicURL, Name: app.cfg.Name, Logger: app.log}, app.db, app.box,
		netguard.New(netguard.Options{AllowedRanges: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}), nil)
	if err != nil {
		return nil, err
	}
	defer reg.Close(context.WithoutCancel(ctx))
	for i := 0; i < n; i++ {
		addr := fmt.Sprintf("127.0.%d.%d:0", 1+i/250, 2+i%250)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("listen for fake server %d: %w", i, err)
		}
		fs := &fleetServer{Domain: ln.Addr().(*net.TCPAddr).IP.String()}
		hs := &http.Server{Handler: fs.handler(), ReadHeaderTimeout: 5 * time.Second}
		go hs.Serve(ln) //nolint:errcheck // ends with close
		f.ln, f.srv = append(f.ln, ln), append(f.srv, hs)
		base := "http://" + ln.Addr().String()
		r, err := reg.Register(ctx, provider.RegisterInput{ServerURL: base, BaseURL: base + "/api/fasp"})
		if err != nil {
			f.close()
			return nil, fmt.Errorf("register fake server %d: %w", i, err)
		}
		fs.ServerID = r.ServerID
		f.servers = append(f.servers, fs)
		for _, capab := range []string{provider.CapSignupScreening, provider.CapContentScreening} {
			status, body, err := f.call(ctx, fs, http.MethodPost, "/capabilities/"+capab+"/0/activation", nil)
			if err != nil || status != http.StatusNoContent {
				f.close()
				return nil, fmt.Errorf("activate %s for fake server %d: status %d %s %v", capab, i, status, body, err)
			}
		}
	}
	return f, nil
}

func (f *fleet) close() {
	for _, s := range f.srv {
		_ = s.Close()
	}
}

// handler answers POST /api/fasp/registration like Mastodon: 200 with a
// fresh key pair and a signed body.
func (fs *fleetServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/fasp/registration", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ServerID  string `json:"serverId"`
			PublicKey string `json:"publicKey"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		pub, err := provider.DecodePublicKey(in.PublicKey)
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		spub, spriv, _ := ed25519.GenerateKey(rand.Reader)
		fs.mu.Lock()
		fs.priv, fs.providerPub, fs.FaspID = spriv, pub, strconv.Itoa(int(time.Now().UnixNano()%1e9))
		fs.mu.Unlock()
		body, _ := json.Marshal(map[string]string{"faspId": fs.FaspID, "publicKey": base64.StdEncoding.EncodeToString(spub),
			"registrationCompletionUri": "http://" + r.Host + "/admin/fasp/providers/" + fs.FaspID})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	return mux
}

// call sends one signed request as server fs and checks the signed answer.
func (f *fleet) call(ctx context.Context, fs *fleetServer, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, f.target+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if err := msgsig.SignRequest(req, body, fs.ServerID, fs.priv, time.Now()); err != nil {
		return 0, nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode < 300 && !f.skipVerify {
		if err := msgsig.VerifyResponse(resp.StatusCode, resp.Header, rb, fs.providerPub, time.Now(), 15*time.Minute); err != nil {
			return resp.StatusCode, rb, fmt.Errorf("answer not correctly signed: %w", err)
		}
	}
	return resp.StatusCode, rb, nil
}

func newFleetClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second},
	}
}
