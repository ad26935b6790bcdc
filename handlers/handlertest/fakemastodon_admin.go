package handlertest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MastodonAdmin adds to the fake Mastodon what admin tools use today: the
// admin webhooks (events out, signed with X-Hub-Signature, retried the way
// Webhooks::DeliveryWorker retries) and the Admin API (approve, reject,
// account actions, the paginated accounts list, reports), with Doorkeeper's
// scope checks and Mastodon's status codes and error bodies
// (Api::BaseController). State lives in memory, like a tiny Mastodon.
type MastodonAdmin struct {
	*Mastodon

	// ListScopes makes GET /api/v1/apps/verify_credentials answer as
	// Mastodon 4.3+ does (any valid token; the application's scopes
	// listed). When false it answers as older versions: the read scope is
	// required and no scopes are listed.
	ListScopes bool
	// NotesAPI enables POST /api/v1/admin/accounts/:id/notes, which only
	// recent Mastodon versions have.
	NotesAPI bool

	nextID   int64
	tokens   map[string]*fakeToken
	accounts map[string]*FakeAccount
	statuses map[string]*FakeStatus
	reports  map[string]*FakeReport
	calls    []APICall
	failures map[string][]int
	webhooks []*fakeWebhook
	outbox   []*Delivery
}

type fakeToken struct {
	scopes  []string
	owner   string // account id of the token's user
	manages bool   // the user's role has Manage Users
	revoked bool
}

type fakeWebhook struct {
	url, secret string
	events      map[string]bool
}

// FakeAccount is a local account with its user, as Mastodon stores them.
type FakeAccount struct {
	ID, Username, Email, IP, Locale, InviteRequest string
	DisplayName                                    string
	CreatedByApplicationID, InvitedByAccountID     string
	Approved, Confirmed                            bool
	Suspended, Silenced, Sensitized, Disabled      bool
	Deleted                                        bool
	CreatedAt                                      time.Time
	Followers, Following, Statuses                 int
}

// FakeStatus is a local post.
type FakeStatus struct {
	ID, AccountID, Content, SpoilerText, Visibility, Language string
	Mentions                                                  []string // accts
	Media                                                     []FakeMedia
	CreatedAt                                                 time.Time
	EditedAt                                                  *time.Time
}

// FakeMedia is one attachment.
type FakeMedia struct {
	ID, Type, URL, Blurhash string
	Width, Height           int
}

// FakeReport is a report as Mastodon stores it.
type FakeReport struct {
	ID, AccountID, TargetAccountID, Comment, Category string
	StatusIDs                                         []string
	Forward                                           bool
	ActionTakenAt                                     *time.Time
	CreatedAt, UpdatedAt                              time.Time
}

// APICall is one Admin API request the fake answered.
type APICall struct {
	Method, Path string
	Body         map[string]any
	Status       int
}

// Delivery is one webhook event in Mastodon's push queue.
type Delivery struct {
	Event    string
	Body     []byte
	URL      string
	Secret   string
	Attempts int
	Statuses []int
	Done     bool
}

// NewMastodonAdmin starts a fake Mastodon with the Admin API and webhooks
// beside its FASP endpoints (one server, one address).
func NewMastodonAdmin(t testing.TB) *MastodonAdmin {
	m := &MastodonAdmin{Mastodon: NewMastodon(t), ListScopes: true, nextID: 110000000000000000,
		tokens: map[string]*fakeToken{}, accounts: map[string]*FakeAccount{}, statuses: map[string]*FakeStatus{},
		reports: map[string]*FakeReport{}, failures: map[string][]int{}}
	mux := m.Server.Config.Handler.(*http.ServeMux)
	mux.HandleFunc("GET /api/v1/apps/verify_credentials", m.verifyCredentials)
	mux.HandleFunc("GET /api/v1/admin/accounts", m.api([]string{"admin:read", "admin:read:accounts"}, true, m.accountsIndex))
	mux.HandleFunc("GET /api/v1/admin/accounts/{id}", m.api([]string{"admin:read", "admin:read:accounts"}, true, m.accountShow))
	mux.HandleFunc("POST /api/v1/admin/accounts/{id}/approve", m.api([]string{"admin:write", "admin:write:accounts"}, true, m.accountApprove))
	mux.HandleFunc("POST /api/v1/admin/accounts/{id}/reject", m.api([]string{"admin:write", "admin:write:accounts"}, true, m.accountReject))
	mux.HandleFunc("POST /api/v1/admin/accounts/{id}/action", m.api([]string{"admin:write", "admin:write:accounts"}, true, m.accountAction))
	mux.HandleFunc("POST /api/v1/admin/accounts/{id}/notes", m.api([]string{"admin:write", "admin:write:accounts"}, true, m.accountNote))
	mux.HandleFunc("POST /api/v1/reports", m.api([]string{"write", "write:reports"}, false, m.reportCreate))
	return m
}

// AddToken creates an access token for a new moderator account whose role
// may manage users (or not), with the given scopes.
func (m *MastodonAdmin) AddToken(token string, manages bool, scopes ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	owner := m.newIDLocked()
	m.accounts[owner] = &FakeAccount{ID: owner, Username: "moderator" + owner[len(owner)-3:], Email: "moderator@fake.example",
		Approved: true, Confirmed: true, CreatedAt: time.Now().UTC()}
	m.tokens[token] = &fakeToken{scopes: scopes, owner: owner, manages: manages}
}

// Revoke revokes a token, as an admin deleting the application does.
func (m *MastodonAdmin) Revoke(token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tk := m.tokens[token]; tk != nil {
		tk.revoked = true
	}
}

// AddWebhook is the admin creating a webhook on Administration → Webhooks.
// Mastodon generates the secret (SecureRandom.hex(20)); pass "" for that,
// or a secret to set it the way a Rails console can.
func (m *MastodonAdmin) AddWebhook(rawURL, secret string, events ...string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if secret == "" {
		b := make([]byte, 20)
		_, _ = rand.Read(b)
		secret = hex.EncodeToString(b)
	}
	wh := &fakeWebhook{url: rawURL, secret: secret, events: map[string]bool{}}
	for _, e := range events {
		wh.events[e] = true
	}
	m.webhooks = append(m.webhooks, wh)
	return secret
}

// FailNext makes the next calls to "METHOD /path" answer these statuses,
// in order, before the fake behaves normally again.
func (m *MastodonAdmin) FailNext(methodPath string, statuses ...int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[methodPath] = append(m.failures[methodPath], statuses...)
}

// SignUp is someone registering on the web form: the user is created
// (approved only in open-registration mode) and account.created is queued.
func (m *MastodonAdmin) SignUp(a FakeAccount) *FakeAccount {
	m.mu.Lock()
	defer m.mu.Unlock()
	acc := a
	acc.ID = m.newIDLocked()
	if acc.CreatedAt.IsZero() {
		acc.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	m.accounts[acc.ID] = &acc
	m.enqueueLocked("account.created", m.adminAccountJSON(&acc))
	return &acc
}

// ConfirmEmail is the user clicking the confirmation link; an approved user
// then gets account.approved (User#prepare_new_user!).
func (m *MastodonAdmin) ConfirmEmail(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accounts[id]
	if a == nil || a.Confirmed {
		return
	}
	a.Confirmed = true
	if a.Approved {
		m.enqueueLocked("account.approved", m.adminAccountJSON(a))
	}
}

// ModeratorApprove is a moderator pressing Approve in the admin UI.
func (m *MastodonAdmin) ModeratorApprove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.approveLocked(m.accounts[id])
}

// ModeratorReject is a moderator pressing Reject: the pending account is
// deleted, and Mastodon sends no webhook for it.
func (m *MastodonAdmin) ModeratorReject(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.accounts[id]; a != nil {
		a.Deleted = true
	}
}

// Post is a local user publishing a status: status.created is queued.
func (m *MastodonAdmin) Post(s FakeStatus) *FakeStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := s
	st.ID = m.newIDLocked()
	if st.Visibility == "" {
		st.Visibility = "public"
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	for i := range st.Media {
		st.Media[i].ID = m.newIDLocked()
	}
	m.statuses[st.ID] = &st
	if a := m.accounts[st.AccountID]; a != nil {
		a.Statuses++
	}
	m.enqueueLocked("status.created", m.statusJSON(&st))
	return &st
}

// Edit is the author editing a status: status.updated is queued.
func (m *MastodonAdmin) Edit(id, content string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.statuses[id]
	now := time.Now().UTC().Truncate(time.Millisecond)
	st.Content, st.EditedAt = content, &now
	m.enqueueLocked("status.updated", m.statusJSON(st))
}

// ResolveReport is a moderator resolving a report, after taking the
// account action sanction ("suspend", "silence", "sensitive", "disable") or
// none (""): report.updated is queued.
func (m *MastodonAdmin) ResolveReport(id, sanction string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.reports[id]
	if r == nil {
		m.t.Fatalf("fake mastodon: no report %s", id)
	}
	if target := m.accounts[r.TargetAccountID]; target != nil {
		applySanction(target, sanction)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	r.ActionTakenAt, r.UpdatedAt = &now, now
	m.enqueueLocked("report.updated", m.adminReportJSON(r))
}

// Account returns a copy of an account's current state.
func (m *MastodonAdmin) Account(id string) FakeAccount {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.accounts[id]
}

// Reports returns every report filed, oldest first.
func (m *MastodonAdmin) Reports() []FakeReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []FakeReport
	for _, r := range m.reports {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Calls returns the Admin API calls answered so far whose "METHOD /path"
// starts with prefix.
func (m *MastodonAdmin) Calls(prefix string) []APICall {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []APICall
	for _, c := range m.calls {
		if strings.HasPrefix(c.Method+" "+c.Path, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// Outbox returns the queued webhook deliveries.
func (m *MastodonAdmin) Outbox() []*Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Delivery(nil), m.outbox...)
}

// Send makes one delivery attempt, exactly as Webhooks::DeliveryWorker does
// (POST, Content-Type: application/json, X-Hub-Signature:
// sha256=hex(HMAC-SHA256(secret, body))), and returns the status. 2xx
// completes the delivery; so do 501 and 4xx other than 401, 408 and 429
// (Mastodon drops those); anything else stays queued for a retry.
func (m *MastodonAdmin) Send(t testing.TB, d *Delivery) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature", "sha256="+hmacHex(d.Secret, d.Body))
	req.Header.Set("User-Agent", "http.rb/5.3.1 (Mastodon/4.5.7; +https://fake.example/)")
	resp, err := http.DefaultClient.Do(req)
	status := 0
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	m.mu.Lock()
	d.Attempts++
	d.Statuses = append(d.Statuses, status)
	if status >= 200 && status < 300 || status == 501 || (status >= 400 && status < 500 && status != 401 && status != 408 && status != 429) {
		d.Done = true
	}
	m.mu.Unlock()
	return status
}

// DeliverAll sends every delivery not yet done once, in order, and returns
// how many are done. Mastodon retries up to 16 times; tests call this again
// to retry.
func (m *MastodonAdmin) DeliverAll(t testing.TB) int {
	t.Helper()
	done := 0
	for _, d := range m.Outbox() {
		if !d.Done && d.Attempts < 17 {
			m.Send(t, d)
		}
		if d.Done {
			done++
		}
	}
	return done
}

func hmacHex(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func (m *MastodonAdmin) newIDLocked() string {
	m.nextID += 1 + m.nextID%7
	return strconv.FormatInt(m.nextID, 10)
}

// enqueueLocked renders an event the way REST::Admin::WebhookEventSerializer
// does, once per subscribed webhook (TriggerWebhookWorker).
func (m *MastodonAdmin) enqueueLocked(event string, object map[string]any) {
	body, err := json.Marshal(map[string]any{"event": event, "created_at": jsonTime(time.Now()), "object": object})
	if err != nil {
		m.t.Fatalf("fake mastodon: encode %s: %v", event, err)
	}
	for _, wh := range m.webhooks {
		if wh.events[event] {
			m.outbox = append(m.outbox, &Delivery{Event: event, Body: body, URL: wh.url, Secret: wh.secret})
		}
	}
}

func (m *MastodonAdmin) approveLocked(a *FakeAccount) {
	if a == nil || a.Approved {
		return
	}
	a.Approved = true
	if a.Confirmed {
		m.enqueueLocked("account.approved", m.adminAccountJSON(a))
	}
}

func applySanction(a *FakeAccount, kind string) {
	switch kind {
	case "suspend":
		a.Suspended = true
	case "silence":
		a.Silenced = true
	case "sensitive":
		a.Sensitized = true
	case "disable":
		a.Disabled = true
	}
}

// jsonTime renders a time as Rails' as_json does: UTC, milliseconds, Z.
func jsonTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// accountJSON is REST::AccountSerializer; created_at is rounded to the day
// as Mastodon does for privacy.
func (m *MastodonAdmin) accountJSON(a *FakeAccount) map[string]any {
	base := m.Server.URL
	y, mo, d := a.CreatedAt.UTC().Date()
	return map[string]any{
		"id": a.ID, "username": a.Username, "acct": a.Username, "display_name": a.DisplayName,
		"locked": false, "bot": false, "discoverable": nil, "indexable": false, "group": false,
		"created_at": jsonTime(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)),
		"note":       "", "url": base + "/@" + a.Username, "uri": base + "/users/" + a.Username,
		"avatar": base + "/avatars/original/missing.png", "avatar_static": base + "/avatars/original/missing.png",
		"header": base + "/headers/original/missing.png", "header_static": base + "/headers/original/missing.png",
		"followers_count": a.Followers, "following_count": a.Following, "statuses_count": a.Statuses,
		"last_status_at": nil, "hide_collections": nil, "noindex": false, "emojis": []any{}, "roles": []any{}, "fields": []any{},
	}
}

// adminAccountJSON is REST::Admin::AccountSerializer.
func (m *MastodonAdmin) adminAccountJSON(a *FakeAccount) map[string]any {
	ips := []any{}
	if a.IP != "" {
		ips = append(ips, map[string]any{"ip": a.IP, "used_at": jsonTime(a.CreatedAt)})
	}
	out := map[string]any{
		"id": a.ID, "username": a.Username, "domain": nil, "created_at": jsonTime(a.CreatedAt),
		"email": a.Email, "ip": nullable(a.IP),
		"role":      map[string]any{"id": "-99", "name": "", "permissions": "65536", "color": "", "highlighted": false},
		"confirmed": a.Confirmed, "suspended": a.Suspended, "silenced": a.Silenced, "sensitized": a.Sensitized,
		"disabled": a.Disabled, "approved": a.Approved, "locale": nullable(a.Locale),
		"invite_request": nullable(a.InviteRequest), "ips": ips, "account": m.accountJSON(a),
	}
	if a.CreatedByApplicationID != "" {
		out["created_by_application_id"] = a.CreatedByApplicationID
	}
	if a.InvitedByAccountID != "" {
		out["invited_by_account_id"] = a.InvitedByAccountID
	}
	return out
}

// statusJSON is REST::StatusSerializer without a viewer.
func (m *MastodonAdmin) statusJSON(s *FakeStatus) map[string]any {
	base := m.Server.URL
	a := m.accounts[s.AccountID]
	mentions := []any{}
	for _, acct := range s.Mentions {
		user := strings.SplitN(acct, "@", 2)[0]
		mentions = append(mentions, map[string]any{"id": "1" + strconv.Itoa(len(acct)), "username": user,
			"url": "https://" + strings.TrimPrefix(acct, user+"@") + "/@" + user, "acct": acct})
	}
	media := []any{}
	for _, md := range s.Media {
		media = append(media, map[string]any{
			"id": md.ID, "type": md.Type, "url": md.URL, "preview_url": strings.Replace(md.URL, "/original/", "/small/", 1),
			"remote_url": nil, "preview_remote_url": nil, "text_url": nil, "description": nil, "blurhash": nullable(md.Blurhash),
			"meta": map[string]any{"original": map[string]any{"width": md.Width, "height": md.Height,
				"size": fmt.Sprintf("%dx%d", md.Width, md.Height), "aspect": float64(md.Width) / float64(max(md.Height, 1))}},
		})
	}
	var edited any
	if s.EditedAt != nil {
		edited = jsonTime(*s.EditedAt)
	}
	return map[string]any{
		"id": s.ID, "created_at": jsonTime(s.CreatedAt), "in_reply_to_id": nil, "in_reply_to_account_id": nil,
		"sensitive": false, "spoiler_text": s.SpoilerText, "visibility": s.Visibility, "language": nullable(s.Language),
		"uri": base + "/users/" + a.Username + "/statuses/" + s.ID, "url": base + "/@" + a.Username + "/" + s.ID,
		"replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0, "edited_at": edited,
		"content": s.Content, "reblog": nil, "application": map[string]any{"name": "Web", "website": nil},
		"account": m.accountJSON(a), "media_attachments": media, "mentions": mentions, "tags": []any{},
		"emojis": []any{}, "card": nil, "poll": nil,
	}
}

// adminReportJSON is REST::Admin::ReportSerializer.
func (m *MastodonAdmin) adminReportJSON(r *FakeReport) map[string]any {
	statuses := []any{}
	for _, id := range r.StatusIDs {
		if st := m.statuses[id]; st != nil {
			statuses = append(statuses, m.statusJSON(st))
		}
	}
	var takenAt, takenBy any
	if r.ActionTakenAt != nil {
		takenAt = jsonTime(*r.ActionTakenAt)
		takenBy = m.adminAccountJSON(m.accounts[r.AccountID])
	}
	return map[string]any{
		"id": r.ID, "action_taken": r.ActionTakenAt != nil, "action_taken_at": takenAt, "category": r.Category,
		"comment": r.Comment, "forwarded": r.Forward, "created_at": jsonTime(r.CreatedAt), "updated_at": jsonTime(r.UpdatedAt),
		"account": m.adminAccountJSON(m.accounts[r.AccountID]), "target_account": m.adminAccountJSON(m.accounts[r.TargetAccountID]),
		"assigned_account": nil, "action_taken_by_account": takenBy, "statuses": statuses, "rules": []any{},
	}
}

// api wraps an endpoint with Doorkeeper's token and scope checks and the
// role check of the admin policies, records the call, and plays injected
// failures.
func (m *MastodonAdmin) api(scopes []string, admin bool, next func(w http.ResponseWriter, r *http.Request, body map[string]any, tk *fakeToken) int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				m.record(r, nil, m.jsonError(w, 400, "Error occurred while parsing request parameters"))
				return
			}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if fails := m.failures[r.Method+" "+r.URL.Path]; len(fails) > 0 {
			m.failures[r.Method+" "+r.URL.Path] = fails[1:]
			if fails[0] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			m.record(r, body, m.jsonError(w, fails[0], http.StatusText(fails[0])))
			return
		}
		tk, status := m.authLocked(w, r, scopes)
		if status != 0 {
			m.record(r, body, status)
			return
		}
		if admin && !tk.manages {
			m.record(r, body, m.jsonError(w, 403, "This action is not allowed"))
			return
		}
		m.record(r, body, next(w, r, body, tk))
	}
}

// authLocked is doorkeeper_authorize!: 401 for a missing, unknown or
// revoked token, 403 when none of the scopes is granted.
func (m *MastodonAdmin) authLocked(w http.ResponseWriter, r *http.Request, scopes []string) (*fakeToken, int) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tk := m.tokens[token]
	switch {
	case !ok || tk == nil:
		return nil, m.jsonError(w, 401, "The access token is invalid")
	case tk.revoked:
		return nil, m.jsonError(w, 401, "The access token was revoked")
	}
	for _, want := range scopes {
		for _, have := range tk.scopes {
			if want == have {
				return tk, 0
			}
		}
	}
	return nil, m.jsonError(w, 403, "This action is outside the authorized scopes")
}

func (m *MastodonAdmin) record(r *http.Request, body map[string]any, status int) {
	m.calls = append(m.calls, APICall{Method: r.Method, Path: r.URL.Path, Body: body, Status: status})
}

func (m *MastodonAdmin) jsonError(w http.ResponseWriter, status int, msg string) int {
	writeJSON(w, status, map[string]string{"error": msg})
	return status
}

func (m *MastodonAdmin) verifyCredentials(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	scopes := []string{"read"}
	if m.ListScopes {
		scopes = nil // any valid token
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tk := m.tokens[token]
	if scopes == nil {
		if tk == nil || tk.revoked {
			m.record(r, nil, m.jsonError(w, 401, "The access token is invalid"))
			return
		}
		writeJSON(w, 200, map[string]any{"id": "7", "name": "Breakwater", "website": nil, "scopes": tk.scopes,
			"redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "redirect_uris": []string{"urn:ietf:wg:oauth:2.0:oob"}})
		m.record(r, nil, 200)
		return
	}
	if _, status := m.authLocked(w, r, scopes); status != 0 {
		m.record(r, nil, status)
		return
	}
	writeJSON(w, 200, map[string]any{"name": "Breakwater", "website": nil, "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z"})
	m.record(r, nil, 200)
}

// accountsIndex is Api::V1::Admin::AccountsController#index: local active
// accounts by default (pending=true for those awaiting approval), newest
// first, limit 100 (at most 200), paginated by max_id with a Link header.
func (m *MastodonAdmin) accountsIndex(w http.ResponseWriter, r *http.Request, _ map[string]any, _ *fakeToken) int {
	q := r.URL.Query()
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, _ := strconv.Atoi(l)
		if n < 0 {
			n = -n
		}
		limit = min(n, 200)
	}
	pending := q.Get("pending") != ""
	var list []*FakeAccount
	for _, a := range m.accounts {
		if a.Deleted || a.Approved == pending || (!pending && a.Suspended) {
			continue
		}
		if id := q.Get("max_id"); id != "" && !idLess(a.ID, id) {
			continue
		}
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return idLess(list[j].ID, list[i].ID) })
	if len(list) > limit {
		list = list[:limit]
	}
	out := []any{}
	for _, a := range list {
		out = append(out, m.adminAccountJSON(a))
	}
	page := func(k, v string) string {
		p := url.Values{}
		for _, key := range []string{"limit", "pending"} {
			if q.Get(key) != "" {
				p.Set(key, q.Get(key))
			}
		}
		p.Set(k, v)
		return "<" + m.Server.URL + "/api/v1/admin/accounts?" + p.Encode() + ">"
	}
	var links []string
	if len(list) == limit && limit > 0 {
		links = append(links, page("max_id", list[len(list)-1].ID)+`; rel="next"`)
	}
	if len(list) > 0 {
		links = append(links, page("min_id", list[0].ID)+`; rel="prev"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, 200, out)
	return 200
}

func idLess(a, b string) bool {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return x < y
}

func (m *MastodonAdmin) findLocked(w http.ResponseWriter, r *http.Request) (*FakeAccount, int) {
	a := m.accounts[r.PathValue("id")]
	if a == nil || a.Deleted {
		return nil, m.jsonError(w, 404, "Record not found")
	}
	return a, 0
}

func (m *MastodonAdmin) accountShow(w http.ResponseWriter, r *http.Request, _ map[string]any, _ *fakeToken) int {
	a, st := m.findLocked(w, r)
	if a == nil {
		return st
	}
	writeJSON(w, 200, m.adminAccountJSON(a))
	return 200
}

// accountApprove: UserPolicy#approve? refuses an approved user (403).
func (m *MastodonAdmin) accountApprove(w http.ResponseWriter, r *http.Request, _ map[string]any, _ *fakeToken) int {
	a, st := m.findLocked(w, r)
	if a == nil {
		return st
	}
	if a.Approved {
		return m.jsonError(w, 403, "This action is not allowed")
	}
	m.approveLocked(a)
	writeJSON(w, 200, m.adminAccountJSON(a))
	return 200
}

// accountReject: deletes the pending account, answers {}.
func (m *MastodonAdmin) accountReject(w http.ResponseWriter, r *http.Request, _ map[string]any, _ *fakeToken) int {
	a, st := m.findLocked(w, r)
	if a == nil {
		return st
	}
	if a.Approved {
		return m.jsonError(w, 403, "This action is not allowed")
	}
	a.Deleted = true
	writeJSON(w, 200, map[string]any{})
	return 200
}

// accountAction is Admin::AccountAction: type none, disable, sensitive,
// silence or suspend (422 otherwise), answers {}.
func (m *MastodonAdmin) accountAction(w http.ResponseWriter, r *http.Request, body map[string]any, _ *fakeToken) int {
	a, st := m.findLocked(w, r)
	if a == nil {
		return st
	}
	kind, _ := body["type"].(string)
	switch kind {
	case "none", "disable", "sensitive", "silence", "suspend":
	default:
		return m.jsonError(w, 422, "Validation failed: Type is not included in the list")
	}
	applySanction(a, kind)
	writeJSON(w, 200, map[string]any{})
	return 200
}

func (m *MastodonAdmin) accountNote(w http.ResponseWriter, r *http.Request, body map[string]any, tk *fakeToken) int {
	if !m.NotesAPI {
		return m.jsonError(w, 404, "Record not found")
	}
	a, st := m.findLocked(w, r)
	if a == nil {
		return st
	}
	content, _ := body["content"].(string)
	if strings.TrimSpace(content) == "" {
		return m.jsonError(w, 422, "Validation failed: Content can't be blank")
	}
	writeJSON(w, 200, map[string]any{"id": m.newIDLocked(), "content": content, "created_at": jsonTime(time.Now()),
		"account": m.accountJSON(m.accounts[tk.owner]), "target_account": m.accountJSON(a)})
	return 200
}

// reportCreate is Api::V1::ReportsController#create with ReportService:
// the statuses must be the target's (404 otherwise), the comment at most
// 1,000 characters (422), the category one of Mastodon's.
func (m *MastodonAdmin) reportCreate(w http.ResponseWriter, r *http.Request, body map[string]any, tk *fakeToken) int {
	id, _ := body["account_id"].(string)
	target := m.accounts[id]
	if target == nil || target.Deleted {
		return m.jsonError(w, 404, "Record not found")
	}
	var statusIDs []string
	if list, ok := body["status_ids"].([]any); ok {
		for _, v := range list {
			sid, _ := v.(string)
			st := m.statuses[sid]
			if st == nil || st.AccountID != target.ID {
				return m.jsonError(w, 404, "Record not found")
			}
			statusIDs = append(statusIDs, sid)
		}
	}
	comment, _ := body["comment"].(string)
	if len([]rune(comment)) > 1000 {
		return m.jsonError(w, 422, "Validation failed: Comment is too long (maximum is 1000 characters)")
	}
	category, _ := body["category"].(string)
	switch category {
	case "":
		category = "other"
	case "spam", "legal", "violation", "other":
	default:
		return m.jsonError(w, 422, "Validation failed: Category is not included in the list")
	}
	forward, _ := body["forward"].(bool)
	now := time.Now().UTC().Truncate(time.Millisecond)
	rep := &FakeReport{ID: m.newIDLocked(), AccountID: tk.owner, TargetAccountID: target.ID, Comment: comment,
		Category: category, StatusIDs: statusIDs, Forward: forward, CreatedAt: now, UpdatedAt: now}
	m.reports[rep.ID] = rep
	m.enqueueLocked("report.created", m.adminReportJSON(rep))
	ids := append([]string{}, statusIDs...)
	writeJSON(w, 200, map[string]any{"id": rep.ID, "action_taken": false, "action_taken_at": nil, "category": category,
		"comment": comment, "forwarded": forward, "created_at": jsonTime(now), "status_ids": ids, "rule_ids": []string{},
		"target_account": m.accountJSON(target)})
	return 200
}

// MoveWebhooks points every webhook, and the deliveries still queued, at a
// new address (Breakwater came back on another port after a restart).
func (m *MastodonAdmin) MoveWebhooks(from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, wh := range m.webhooks {
		wh.url = strings.Replace(wh.url, from, to, 1)
	}
	for _, d := range m.outbox {
		d.URL = strings.Replace(d.URL, from, to, 1)
	}
}

// Stop shuts the app down the way serve does at SIGTERM (listener, then
// background work, then the database), so a test can start a new App on
// the same database: a restart. The cleanup NewApp registered is then a
// no-op.
func (a *App) Stop(t testing.TB) {
	t.Helper()
	a.Server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Svc.Close(ctx); err != nil {
		t.Errorf("close service: %v", err)
	}
	if err := a.DB.Close(); err != nil {
		t.Errorf("close database: %v", err)
	}
}
