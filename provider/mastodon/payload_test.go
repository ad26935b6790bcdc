package mastodon

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/screening"
)

// adminAccount builds REST::Admin::Account as Mastodon renders it for a
// pending web sign-up; edit mutates the map before encoding.
func adminAccount(edit func(m map[string]any)) map[string]any {
	m := map[string]any{
		"id": "110000000000000001", "username": "kuroneko01", "domain": nil,
		"created_at": "2024-02-15T03:04:05.123Z", "email": "kuro@mail.example",
		"ip": "203.0.113.9", "role": map[string]any{"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": false},
		"confirmed": false, "suspended": false, "silenced": false, "sensitized": false, "disabled": false,
		"approved": false, "locale": "ja", "invite_request": "I like cats",
		"ips": []any{map[string]any{"ip": "203.0.113.9", "used_at": "2024-02-15T03:04:05.000Z"}},
		"account": map[string]any{
			"id": "110000000000000001", "username": "kuroneko01", "acct": "kuroneko01", "display_name": "",
			"locked": false, "bot": false, "discoverable": nil, "group": false, "created_at": "2024-02-15T00:00:00.000Z",
			"note": "", "url": "https://social.example/@kuroneko01", "uri": "https://social.example/users/kuroneko01",
			"avatar": "https://social.example/avatars/original/missing.png", "avatar_static": "https://social.example/avatars/original/missing.png",
			"header": "https://social.example/headers/original/missing.png", "header_static": "https://social.example/headers/original/missing.png",
			"followers_count": 0, "following_count": 0, "statuses_count": 0, "last_status_at": nil, "emojis": []any{}, "fields": []any{},
		},
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// status builds REST::Status as a status.created webhook carries it.
func status(edit func(m map[string]any)) map[string]any {
	acct := adminAccount(nil)["account"].(map[string]any)
	acct["statuses_count"] = 3
	m := map[string]any{
		"id": "112000000000000042", "created_at": "2024-02-15T03:10:00.000Z", "in_reply_to_id": nil,
		"in_reply_to_account_id": nil, "sensitive": false, "spoiler_text": "", "visibility": "public", "language": "ja",
		"uri": "https://social.example/users/kuroneko01/statuses/112000000000000042", "url": "https://social.example/@kuroneko01/112000000000000042",
		"replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "edited_at": nil,
		"content": `<p><span class="h-card"><a href="https://other.example/@alex" class="u-url mention">@<span>alex</span></a></span> join https://discord.gg/x</p>`,
		"reblog":  nil, "application": map[string]any{"name": "Web", "website": nil}, "account": acct,
		"media_attachments": []any{map[string]any{
			"id": "112000000000000099", "type": "image", "url": "https://files.social.example/media_attachments/files/112/000/original/abc.png",
			"preview_url": "https://files.social.example/media_attachments/files/112/000/small/abc.png", "remote_url": nil,
			"preview_remote_url": nil, "text_url": nil, "description": nil, "blurhash": "UTQcbkVY%gIU8w8_%Mxu%2Rjayt7.8?bMxRj",
			"meta": map[string]any{"original": map[string]any{"width": 1009, "height": 200, "size": "1009x200", "aspect": 5.045}},
		}},
		"mentions": []any{map[string]any{"id": "5", "username": "alex", "url": "https://other.example/@alex", "acct": "alex@other.example"}},
		"tags":     []any{}, "emojis": []any{}, "card": nil, "poll": nil,
	}
	if edit != nil {
		edit(m)
	}
	return m
}

func envelope(t *testing.T, event string, obj map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "created_at": "2024-02-15T03:10:01.000Z", "object": obj})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEvent(t *testing.T) {
	edited := status(func(m map[string]any) { m["edited_at"] = "2024-02-15T03:20:00.000Z" })
	report := map[string]any{"id": "77", "action_taken": true, "category": "spam", "comment": "", "forwarded": false,
		"created_at": "2024-02-15T04:00:00.000Z", "updated_at": "2024-02-15T05:00:00.000Z",
		"target_account": adminAccount(nil), "statuses": []any{}}
	tests := []struct {
		name           string
		body           []byte
		wantErr        string // "ignored", "payload" or ""
		key, accountID string
	}{
		{"account.created", envelope(t, EventAccountCreated, adminAccount(nil)), "", "110000000000000001", "110000000000000001"},
		{"account.approved", envelope(t, EventAccountApproved, adminAccount(nil)), "", "110000000000000001", "110000000000000001"},
		{"status.created", envelope(t, EventStatusCreated, status(nil)), "", "112000000000000042", "110000000000000001"},
		{"status.updated keys on the edit", envelope(t, EventStatusUpdated, edited), "", "112000000000000042@2024-02-15T03:20:00Z", "110000000000000001"},
		{"report.created", envelope(t, EventReportCreated, report), "", "77", "110000000000000001"},
		{"report.updated keys on the update", envelope(t, EventReportUpdated, report), "", "77@2024-02-15T05:00:00Z", "110000000000000001"},
		{"account.updated is ignored", envelope(t, "account.updated", adminAccount(nil)), "ignored", "", ""},
		{"unknown event is ignored", []byte(`{"event":"status.deleted","object":{}}`), "ignored", "", ""},
		{"custom template", []byte(`New user: kuroneko01`), "payload", "", ""},
		{"no event", []byte(`{"object":{"id":"1"}}`), "payload", "", ""},
		{"object not an object", []byte(`{"event":"account.created","object":"1"}`), "payload", "", ""},
		{"object id missing", []byte(`{"event":"account.created","object":{"username":"x"}}`), "payload", "", ""},
		{"object id not numeric", []byte(`{"event":"account.created","object":{"id":"../../admin"}}`), "payload", "", ""},
		{"object id a number", []byte(`{"event":"account.created","object":{"id":1}}`), "payload", "", ""},
		{"status without account", []byte(`{"event":"status.created","object":{"id":"1"}}`), "payload", "", ""},
		{"truncated", envelope(t, EventAccountCreated, adminAccount(nil))[:50], "payload", "", ""},
		{"trailing data", append(envelope(t, EventAccountCreated, adminAccount(nil)), []byte(`{}`)...), "payload", "", ""},
		{"empty", nil, "payload", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent(tc.body)
			switch tc.wantErr {
			case "ignored":
				if !errors.Is(err, ErrIgnored) {
					t.Fatalf("err = %v, want ErrIgnored", err)
				}
				return
			case "payload":
				var pe *PayloadError
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *PayloadError", err)
				}
				if strings.Contains(pe.Message, "kuro@mail.example") {
					t.Errorf("error quotes the body: %s", pe.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Key != tc.key || ev.AccountID != tc.accountID {
				t.Errorf("key %q account %q, want %q %q", ev.Key, ev.AccountID, tc.key, tc.accountID)
			}
		})
	}
}

func TestSignupInput(t *testing.T) {
	at := time.Date(2024, 2, 15, 3, 4, 5, 123e6, time.UTC)
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		want    func(in *screening.SignupInput)
		wantErr string
	}{
		{name: "web sign-up awaiting approval", want: func(in *screening.SignupInput) {}},
		{name: "ip null falls back to ips[0]", edit: func(m map[string]any) { m["ip"] = nil }},
		{name: "IPv4-mapped IPv6 is unmapped", edit: func(m map[string]any) { m["ip"] = "::ffff:203.0.113.9" }},
		{name: "IPv6", edit: func(m map[string]any) { m["ip"] = "2001:db8::1" }, want: func(in *screening.SignupInput) { in.IP = "2001:db8::1" }},
		{name: "API sign-up", edit: func(m map[string]any) { m["created_by_application_id"] = "12" },
			want: func(in *screening.SignupInput) { in.Client = &screening.SignupClient{Application: "mastodon-app:12"} }},
		{name: "invited", edit: func(m map[string]any) { m["invited_by_account_id"] = "3"; m["invite_request"] = nil },
			want: func(in *screening.SignupInput) { in.Account.Invited = true; in.Account.Reason = "" }},
		{name: "no locale", edit: func(m map[string]any) { m["locale"] = nil }, want: func(in *screening.SignupInput) { in.Account.Locale = "" }},
		{name: "display name from the profile", edit: func(m map[string]any) { m["account"].(map[string]any)["display_name"] = "Kuro" },
			want: func(in *screening.SignupInput) { in.Account.DisplayName = "Kuro" }},
		{name: "no IP at all", edit: func(m map[string]any) { m["ip"] = nil; m["ips"] = []any{} }, wantErr: "no sign-up IP"},
		{name: "IP garbage", edit: func(m map[string]any) { m["ip"] = "not-an-ip" }, wantErr: "not an IP"},
		{name: "no email", edit: func(m map[string]any) { m["email"] = "" }, wantErr: "email"},
		{name: "no username", edit: func(m map[string]any) { m["username"] = " " }, wantErr: "username"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent(envelope(t, EventAccountCreated, adminAccount(tc.edit)))
			if err != nil {
				t.Fatal(err)
			}
			acc, err := DecodeAccount(ev.Object)
			if err != nil {
				t.Fatal(err)
			}
			got, err := SignupInput(acc)
			if tc.wantErr != "" {
				var pe *PayloadError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a payload error about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := screening.SignupInput{
				Account:    screening.SignupAccount{Username: "kuroneko01", Email: "kuro@mail.example", Locale: "ja", Reason: "I like cats"},
				IP:         "203.0.113.9",
				OccurredAt: &at,
			}
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestContentInput(t *testing.T) {
	created := time.Date(2024, 2, 15, 3, 10, 0, 0, time.UTC)
	acctCreated := time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC)
	three, zero := 3, 0
	base := func() screening.ContentInput {
		return screening.ContentInput{
			Post: screening.Post{
				ID: "112000000000000042", URI: "https://social.example/users/kuroneko01/statuses/112000000000000042",
				Text:       `<p><span class="h-card"><a href="https://other.example/@alex" class="u-url mention">@<span>alex</span></a></span> join https://discord.gg/x</p>`,
				Language:   "ja",
				Visibility: "public",
				Mentions:   []screening.Mention{{Acct: "alex@other.example"}},
				Media:      []screening.Media{{Blurhash: "UTQcbkVY%gIU8w8_%Mxu%2Rjayt7.8?bMxRj", MimeType: "image/png"}},
			},
			Author: screening.Author{ID: "110000000000000001", Acct: "kuroneko01", CreatedAt: acctCreated, Local: true,
				Followers: &zero, Following: &zero, Statuses: &three},
			OccurredAt: &created,
		}
	}
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		want    func(in *screening.ContentInput)
		wantErr error
	}{
		{name: "public post with mention and image"},
		{name: "content warning is prepended as a paragraph", edit: func(m map[string]any) { m["spoiler_text"] = "free <money>" },
			want: func(in *screening.ContentInput) { in.Post.Text = "<p>free &lt;money&gt;</p>" + in.Post.Text }},
		{name: "edit time is when it occurred", edit: func(m map[string]any) { m["edited_at"] = "2024-02-15T03:20:00.000Z" },
			want: func(in *screening.ContentInput) { t := created.Add(10 * time.Minute); in.OccurredAt = &t }},
		{name: "direct reply", edit: func(m map[string]any) { m["visibility"] = "direct"; m["in_reply_to_id"] = "111" },
			want: func(in *screening.ContentInput) { in.Post.Visibility = "direct"; in.Post.InReplyTo = "111" }},
		{name: "no mentions is an empty list", edit: func(m map[string]any) { m["mentions"] = []any{} },
			want: func(in *screening.ContentInput) { in.Post.Mentions = []screening.Mention{} }},
		{name: "link preview URL becomes a link", edit: func(m map[string]any) { m["card"] = map[string]any{"url": "https://discord.gg/x", "type": "link"} },
			want: func(in *screening.ContentInput) { in.Post.Links = []string{"https://discord.gg/x"} }},
		{name: "media of unknown type", edit: func(m map[string]any) {
			m["media_attachments"].([]any)[0].(map[string]any)["url"] = "https://files.social.example/x/original/file"
		}, want: func(in *screening.ContentInput) { in.Post.Media[0].MimeType = "" }},
		{name: "video", edit: func(m map[string]any) {
			a := m["media_attachments"].([]any)[0].(map[string]any)
			a["type"], a["url"], a["blurhash"] = "gifv", "https://files.social.example/x/original/a.mp4", nil
		}, want: func(in *screening.ContentInput) { in.Post.Media[0] = screening.Media{MimeType: "video/mp4"} }},
		{name: "no language", edit: func(m map[string]any) { m["language"] = nil }, want: func(in *screening.ContentInput) { in.Post.Language = "" }},
		{name: "boost", edit: func(m map[string]any) { m["reblog"] = status(nil) }, wantErr: ErrBoost},
		{name: "unknown visibility", edit: func(m map[string]any) { m["visibility"] = "limited" }, wantErr: &PayloadError{}},
		{name: "account created_at missing", edit: func(m map[string]any) { delete(m["account"].(map[string]any), "created_at") }, wantErr: &PayloadError{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent(envelope(t, EventStatusCreated, status(tc.edit)))
			if err != nil {
				t.Fatal(err)
			}
			st, err := DecodeStatus(ev.Object)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ContentInput(st)
			if tc.wantErr != nil {
				var pe *PayloadError
				if _, want := tc.wantErr.(*PayloadError); want && !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *PayloadError", err)
				} else if !want && !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := base()
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		granted []string
		want    string
		ok      bool
	}{
		{[]string{"admin:read:accounts"}, "admin:read:accounts", true},
		{[]string{"admin:read"}, "admin:read:accounts", true},
		{[]string{"admin:write"}, "admin:write:accounts", true},
		{[]string{"write"}, "write:reports", true},
		{[]string{"write"}, "admin:write:accounts", false},
		{[]string{"admin:read"}, "admin:write:accounts", false},
		{[]string{"read", "write", "follow"}, "admin:read:accounts", false},
		{nil, "write:reports", false},
	}
	for _, tc := range tests {
		if got := Covers(tc.granted, tc.want); got != tc.ok {
			t.Errorf("Covers(%v, %s) = %v, want %v", tc.granted, tc.want, got, tc.ok)
		}
	}
}
