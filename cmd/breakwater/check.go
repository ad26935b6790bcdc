package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/breakwater-fasp/breakwater/client"
)

const checkUsage = `usage:
  breakwater check --signup|--content --server-id <serverId> --key-file <file>
                   [--url <breakwater public url>] [--provider-key <base64>] [--fail-closed] [--timeout 2s]
                   < check.json

Sends one check (the spam_detection request body, as JSON on standard input) signed with the
server's Ed25519 private key, and prints Breakwater's answer as JSON. The key file holds that key
as PEM "PRIVATE KEY" (PKCS #8: openssl genpkey -algorithm ed25519, or Mastodon's FASP key) or as
base64 of the 32-byte seed. Exit status 0: Breakwater decided. 1: no decision; the printed JSON
then holds the fallback decision ("allow", or "review" with --fail-closed) and "fallback": true.`

// cmdCheck is the client package on the command line, for admins and
// scripts of any server software: one check from standard input.
func cmdCheck(ctx context.Context, args []string, io stdio) error {
	var (
		signup, content, failClosed bool
		serverID, keyFile, baseURL  string
		providerKey                 string
		timeout                     time.Duration
	)
	cfg, pos, err := parseFlags("check", args, io, func(fs *flag.FlagSet) {
		fs.BoolVar(&signup, "signup", false, "screen a sign-up (signup_screening)")
		fs.BoolVar(&content, "content", false, "screen a post (content_screening)")
		fs.StringVar(&serverID, "server-id", "", "the serverId Breakwater issued (the signature's keyid)")
		fs.StringVar(&keyFile, "key-file", "", "file with the server's Ed25519 private key")
		fs.StringVar(&baseURL, "url", "", "Breakwater's public URL (default $BREAKWATER_PUBLIC_URL)")
		fs.StringVar(&providerKey, "provider-key", "", "Breakwater's public key for this server (base64), to verify the answer")
		fs.BoolVar(&failClosed, "fail-closed", false, "without a decision, answer review instead of allow")
		fs.DurationVar(&timeout, "timeout", 2*time.Second, "time limit of each attempt")
	})
	if err != nil {
		return err
	}
	if len(pos) != 0 || signup == content || serverID == "" || keyFile == "" {
		return usageErr(checkUsage)
	}
	if baseURL == "" {
		baseURL = cfg.publicURL.String()
	}
	key, err := client.LoadPrivateKey(keyFile)
	if err != nil {
		return err
	}
	opts := client.Options{BaseURL: baseURL, ServerID: serverID, PrivateKey: key, Timeout: timeout,
		UserAgent: "breakwater-check/" + version}
	if failClosed {
		opts.FailMode = client.FailClosed
	}
	if providerKey != "" {
		if opts.ProviderKey, err = client.ParsePublicKey(providerKey); err != nil {
			return usageErr("--provider-key: %v", err)
		}
	}
	c, err := client.New(opts)
	if err != nil {
		return usageErr("%v", err)
	}
	body, err := readCheck(io.in)
	if err != nil {
		return err
	}
	path := client.SignupPath
	if content {
		path = client.ContentPath
	}
	res, checkErr := c.Send(ctx, path, body)
	if err := writeJSON(io.out, res); err != nil {
		return err
	}
	return checkErr
}

// readCheck reads one JSON object from r, at most 1 MiB.
func readCheck(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	if len(body) > 1<<20 {
		return nil, usageErr("the check on standard input is larger than 1 MiB")
	}
	body = bytes.TrimSpace(body)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || len(body) == 0 {
			return nil, usageErr("standard input must be one JSON object (the check's request body)")
		}
		return nil, usageErr("standard input must be a JSON object: %v", err)
	}
	return body, nil
}
