package mastodon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OAuth scopes Breakwater asks for. Reading and acting on accounts needs the
// admin scopes; filing a report is a user action (POST /api/v1/reports) and
// needs write:reports, not an admin scope.
const (
	ScopeAdminReadAccounts  = "admin:read:accounts"
	ScopeAdminWriteAccounts = "admin:write:accounts"
	ScopeWriteReports       = "write:reports"
)

// Covers reports whether the granted scopes include want, directly or
// through its parent scope: Doorkeeper accepts "admin:write" where
// "admin:write:accounts" is asked, and "write" for "write:reports".
func Covers(granted []string, want string) bool {
	parent := want
	if i := strings.LastIndexByte(want, ':'); i > 0 {
		parent = want[:i]
	}
	for _, g := range granted {
		if g == want || g == parent {
			return true
		}
	}
	return false
}

// Doer sends HTTP requests. In Breakwater it is always the SSRF-safe
// *netguard.Client: the API URL is chosen by an admin.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client calls one Mastodon server's API with one access token. It never
// puts the token anywhere but the Authorization header, and its errors never
// contain it.
type Client struct {
	base  *url.URL
	token string
	http  Doer
}

// NewClient builds a client for the server at apiURL (scheme and host; a
// path is refused, since Mastodon's API lives at the root).
func NewClient(apiURL, token string, d Doer) (*Client, error) {
	u, err := ParseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("mastodon: access token is empty")
	}
	return &Client{base: u, token: token, http: d}, nil
}

// ParseAPIURL normalises a Mastodon server address to scheme://host[:port].
func ParseAPIURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("the Mastodon URL must look like https://mastodon.example")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return nil, errors.New("the Mastodon URL must be the server's address only, like https://mastodon.example (no path, query or user)")
	}
	return &url.URL{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Host)}, nil
}

// BaseURL is the server address requests go to.
func (c *Client) BaseURL() string { return c.base.String() }

// APIError is a non-2xx answer from Mastodon. Message is Mastodon's own
// {"error": …} text, which is safe to show an admin.
type APIError struct {
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("Mastodon answered HTTP %d", e.Status)
	}
	return fmt.Sprintf("Mastodon answered HTTP %d: %s", e.Status, e.Message)
}

// Temporary reports whether repeating the call later may succeed: request
// timeouts, rate limits and server errors (501 Not Implemented excepted).
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests ||
		(e.Status >= 500 && e.Status != http.StatusNotImplemented)
}

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// App is what GET /api/v1/apps/verify_credentials shows about the token's
// application. Mastodon 4.3 and later list its scopes; older versions do
// not, and then ScopesListed is false.
type App struct {
	Name         string   `json:"name"`
	Website      *string  `json:"website"`
	Scopes       []string `json:"scopes"`
	ScopesListed bool     `json:"-"`
}

// VerifyCredentials checks the token. A 403 (Mastodon before 4.3 asks for
// the read scope here) is not an error: the token was accepted, only its
// application cannot be shown, and the returned App is empty.
func (c *Client) VerifyCredentials(ctx context.Context) (*App, error) {
	var app App
	var raw map[string]json.RawMessage
	err := c.call(ctx, http.MethodGet, "/api/v1/apps/verify_credentials", nil, &raw)
	if StatusOf(err) == http.StatusForbidden {
		return &App{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify credentials: %w", err)
	}
	if v, ok := raw["name"]; ok {
		_ = json.Unmarshal(v, &app.Name)
	}
	if v, ok := raw["scopes"]; ok {
		if err := json.Unmarshal(v, &app.Scopes); err == nil {
			app.ScopesListed = true
		}
	}
	return &app, nil
}

// ProbeAdminAccounts reads one page of one account, proving the token holds
// admin:read:accounts and its user's role may manage users.
func (c *Client) ProbeAdminAccounts(ctx context.Context) error {
	var out []json.RawMessage
	if err := c.call(ctx, http.MethodGet, "/api/v1/admin/accounts?limit=1", nil, &out); err != nil {
		return fmt.Errorf("read admin accounts: %w", err)
	}
	return nil
}

// GetAccount loads one account through the Admin API.
func (c *Client) GetAccount(ctx context.Context, id string) (*AdminAccount, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("get account: invalid id")
	}
	var a AdminAccount
	if err := c.call(ctx, http.MethodGet, "/api/v1/admin/accounts/"+id, nil, &a); err != nil {
		return nil, fmt.Errorf("get account %s: %w", id, err)
	}
	return &a, nil
}

// PendingAccounts lists accounts awaiting approval, following the Link
// rel="next" pagination Mastodon sends, for at most maxPages pages of
// pageSize (Mastodon allows up to 200). complete is false when more pages
// were left unread.
func (c *Client) PendingAccounts(ctx context.Context, pageSize, maxPages int) (accounts []AdminAccount, complete bool, err error) {
	next := "/api/v1/admin/accounts?limit=" + strconv.Itoa(pageSize) + "&pending=true"
	for page := 0; page < maxPages; page++ {
		var batch []AdminAccount
		hdr, err := c.callHeader(ctx, http.MethodGet, next, nil, &batch)
		if err != nil {
			return nil, false, fmt.Errorf("list pending accounts: %w", err)
		}
		accounts = append(accounts, batch...)
		link, ok := nextLink(hdr.Get("Link"), c.base)
		if !ok || len(batch) == 0 {
			return accounts, true, nil
		}
		next = link
	}
	return accounts, false, nil
}

// Approve approves a pending local account.
func (c *Client) Approve(ctx context.Context, id string) error {
	return c.accountPost(ctx, id, "approve", nil)
}

// Reject rejects (deletes) a pending local account.
func (c *Client) Reject(ctx context.Context, id string) error {
	return c.accountPost(ctx, id, "reject", nil)
}

// Account action types of POST /api/v1/admin/accounts/:id/action that
// Breakwater may take.
const (
	ActionSensitive = "sensitive"
	ActionSilence   = "silence"
	ActionSuspend   = "suspend"
)

// AccountAction takes a moderation action (sensitive, silence, suspend)
// with text as the moderator-visible reason.
func (c *Client) AccountAction(ctx context.Context, id, kind, text string) error {
	switch kind {
	case ActionSensitive, ActionSilence, ActionSuspend:
	default:
		return fmt.Errorf("account action: unsupported type %q", kind)
	}
	return c.accountPost(ctx, id, "action", map[string]any{"type": kind, "text": text})
}

// AddNote adds a moderation note to an account
// (POST /api/v1/admin/accounts/:id/notes). Only recent Mastodon versions
// have this endpoint; older ones answer 404.
func (c *Client) AddNote(ctx context.Context, id, content string) error {
	return c.accountPost(ctx, id, "notes", map[string]any{"content": content})
}

func (c *Client) accountPost(ctx context.Context, id, what string, body any) error {
	if !ValidID(id) {
		return fmt.Errorf("%s account: invalid id", what)
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/admin/accounts/"+id+"/"+what, body, nil); err != nil {
		return fmt.Errorf("%s account %s: %w", what, id, err)
	}
	return nil
}

// ReportInput is a report Breakwater files as the token's user.
type ReportInput struct {
	AccountID string
	StatusIDs []string
	// Comment is shown to moderators; Mastodon keeps at most 1,000
	// characters, so it is cut there.
	Comment string
}

// MaxCommentLength is Mastodon's limit on a report comment.
const MaxCommentLength = 1000

// FileReport files a spam report (POST /api/v1/reports, category "spam",
// not forwarded) and returns the report's id.
func (c *Client) FileReport(ctx context.Context, in ReportInput) (string, error) {
	if !ValidID(in.AccountID) {
		return "", errors.New("file report: invalid account id")
	}
	ids := make([]string, 0, len(in.StatusIDs))
	for _, s := range in.StatusIDs {
		if ValidID(s) {
			ids = append(ids, s)
		}
	}
	body := map[string]any{
		"account_id": in.AccountID,
		"status_ids": ids,
		"comment":    truncateRunes(in.Comment, MaxCommentLength),
		"category":   "spam",
		"forward":    false,
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/reports", body, &out); err != nil {
		return "", fmt.Errorf("file report on account %s: %w", in.AccountID, err)
	}
	if !ValidID(out.ID) {
		return "", errors.New("file report: Mastodon's answer has no report id")
	}
	return out.ID, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (c *Client) call(ctx context.Context, method, pathQuery string, body, out any) error {
	_, err := c.callHeader(ctx, method, pathQuery, body, out)
	return err
}

// callHeader sends one request and decodes a 2xx JSON answer into out.
func (c *Client) callHeader(ctx context.Context, method, pathQuery string, body, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+pathQuery, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, apiError(resp, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("decode answer: %w", err)
		}
	}
	return resp.Header, nil
}

func apiError(resp *http.Response, data []byte) *APIError {
	e := &APIError{Status: resp.StatusCode}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.Message = truncateRunes(strings.TrimSpace(body.Error), 200)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = time.Until(t)
		}
	}
	return e
}

// nextLink finds rel="next" in a Link header and returns its path and query,
// refusing links to another host (a page must never lead the token
// elsewhere).
func nextLink(header string, base *url.URL) (string, bool) {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		end := strings.IndexByte(part, '>')
		if !strings.HasPrefix(part, "<") || end < 0 {
			continue
		}
		isNext := false
		for _, p := range strings.Split(part[end+1:], ";") {
			p = strings.TrimSpace(p)
			if v, ok := strings.CutPrefix(p, "rel="); ok && strings.Trim(v, `"`) == "next" {
				isNext = true
			}
		}
		if !isNext {
			continue
		}
		u, err := url.Parse(part[1:end])
		if err != nil || !strings.EqualFold(u.Host, base.Host) || u.Scheme != base.Scheme {
			return "", false
		}
		return u.RequestURI(), true
	}
	return "", false
}
