package screening

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/fault"
)

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ve *fault.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *fault.ValidationError", err)
	}
	return ve.Field
}

func TestValidateSignup(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	ok := func() SignupInput { return signup("tomas", "tomas@mail.example", "203.0.113.40") }
	cases := []struct {
		name  string
		mod   func(*SignupInput)
		field string
	}{
		{"valid", func(*SignupInput) {}, ""},
		{"valid ipv6", func(in *SignupInput) { in.IP = "2001:db8::1" }, ""},
		{"valid mapped", func(in *SignupInput) { in.IP = "::ffff:203.0.113.7" }, ""},
		{"valid idn email", func(in *SignupInput) { in.Account.Email = "jörg@bücher.example" }, ""},
		{"trimmed", func(in *SignupInput) { in.Account.Username = "  tomas  " }, ""},
		{"empty username", func(in *SignupInput) { in.Account.Username = "   " }, "account.username"},
		{"long username", func(in *SignupInput) { in.Account.Username = strings.Repeat("ö", 65) }, "account.username"},
		{"64 username", func(in *SignupInput) { in.Account.Username = strings.Repeat("ö", 64) }, ""},
		{"missing email", func(in *SignupInput) { in.Account.Email = "" }, "account.email"},
		{"display-name email", func(in *SignupInput) { in.Account.Email = "Tomas <tomas@mail.example>" }, "account.email"},
		{"no dot", func(in *SignupInput) { in.Account.Email = "tomas@localhost" }, "account.email"},
		{"two ats", func(in *SignupInput) { in.Account.Email = "a@b@mail.example" }, "account.email"},
		{"long email", func(in *SignupInput) {
			in.Account.Email = strings.Repeat("a", 60) + "@" + strings.Repeat("b.", 140) + "example"
		}, "account.email"},
		{"bad ip", func(in *SignupInput) { in.IP = "203.0.113.256" }, "ip"},
		{"ip port", func(in *SignupInput) { in.IP = "203.0.113.40:443" }, "ip"},
		{"ip zone", func(in *SignupInput) { in.IP = "fe80::1%eth0" }, "ip"},
		{"ip leading zero", func(in *SignupInput) { in.IP = "203.0.113.040" }, "ip"},
		{"ip prefix", func(in *SignupInput) { in.IP = "203.0.113.0/24" }, "ip"},
		{"missing ip", func(in *SignupInput) { in.IP = "" }, "ip"},
		{"negative form seconds", func(in *SignupInput) { in.Client = &SignupClient{FormSeconds: f(-1)} }, "client.formSeconds"},
		{"long reason", func(in *SignupInput) { in.Account.Reason = strings.Repeat("x", 5001) }, "account.reason"},
		{"long display", func(in *SignupInput) { in.Account.DisplayName = strings.Repeat("x", 257) }, "account.displayName"},
		{"long app", func(in *SignupInput) { in.Client = &SignupClient{Application: strings.Repeat("x", 257)} }, "client.application"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ok()
			c.mod(&in)
			if got := fieldOf(t, ValidateSignup(&in)); got != c.field {
				t.Errorf("field = %q, want %q", got, c.field)
			}
		})
	}
	in := ok()
	in.Account.Username = "  tomas "
	_ = ValidateSignup(&in)
	if in.Account.Username != "tomas" {
		t.Error("username not trimmed")
	}
}

func TestValidateContent(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	ok := func() ContentInput { return post("maren", time.Hour, now, "<p>Morning walk</p>") }
	neg := -1
	cases := []struct {
		name  string
		mod   func(*ContentInput)
		field string
	}{
		{"valid", func(*ContentInput) {}, ""},
		{"empty text is a media-only post", func(in *ContentInput) { in.Post.Text = "" }, ""},
		{"upper-case hex", func(in *ContentInput) { in.Post.Media = []Media{{PHash: "C3E1F0F0D8C88C0E"}} }, ""},
		{"non-http link ignored", func(in *ContentInput) { in.Post.Links = []string{"mailto:x@y.z"} }, ""},
		{"long text", func(in *ContentInput) { in.Post.Text = strings.Repeat("é", 100_001) }, "post.text"},
		{"bad visibility", func(in *ContentInput) { in.Post.Visibility = "followers" }, "post.visibility"},
		{"missing mentions", func(in *ContentInput) { in.Post.Mentions = nil }, "post.mentions"},
		{"too many mentions", func(in *ContentInput) { in.Post.Mentions = make([]Mention, 501) }, "post.mentions"},
		{"mention without acct", func(in *ContentInput) {
			in.Post.Mentions = []Mention{{Acct: "kim@other.example"}, {FollowsAuthor: &no}}
		}, "post.mentions[1].acct"},
		{"too many links", func(in *ContentInput) { in.Post.Links = make([]string, 101) }, "post.links"},
		{"too many media", func(in *ContentInput) { in.Post.Media = make([]Media, 21) }, "post.media"},
		{"bad sha256", func(in *ContentInput) { in.Post.Media = []Media{{SHA256: "9f2c4e1b"}} }, "post.media[0].sha256"},
		{"bad phash", func(in *ContentInput) {
			in.Post.Media = []Media{{PHash: "c3e1f0f0d8c88c0e"}, {PHash: "c3e1f0f0d8c88c0g"}}
		}, "post.media[1].phash"},
		{"missing acct", func(in *ContentInput) { in.Author.Acct = "@" }, "author.acct"},
		{"missing createdAt", func(in *ContentInput) { in.Author.CreatedAt = time.Time{} }, "author.createdAt"},
		{"negative followers", func(in *ContentInput) { in.Author.Followers = &neg }, "author.followers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ok()
			c.mod(&in)
			if got := fieldOf(t, ValidateContent(&in)); got != c.field {
				t.Errorf("field = %q, want %q", got, c.field)
			}
		})
	}
}

// TestSpecInvalidExamples runs the spec's invalid-request vectors through
// the validators. Vectors whose problem is a JSON type or a missing object
// (the HTTP layer's schema check) are skipped when they do not decode.
func TestSpecInvalidExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "spec", "spam_detection", "v0.1", "examples")
	files, _ := filepath.Glob(filepath.Join(dir, "invalid-*.json"))
	if len(files) == 0 {
		t.Skip("spec examples not present")
	}
	schemaOnly := map[string]bool{"author.local": true, "author": true, "account": true, "post.text": true, "occurredAt": true, "account.invited": true}
	checked := 0
	for _, file := range files {
		name := filepath.Base(file)
		var ex struct {
			Body  json.RawMessage `json:"body"`
			Field string          `json:"field"`
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if json.Unmarshal(raw, &ex) != nil || ex.Field == "" || schemaOnly[ex.Field] {
			continue
		}
		var got string
		switch {
		case strings.HasPrefix(name, "invalid-signup-"):
			var in SignupInput
			if json.Unmarshal(ex.Body, &in) != nil {
				continue
			}
			got = fieldOf(t, ValidateSignup(&in))
		case strings.HasPrefix(name, "invalid-content-"):
			var in ContentInput
			if json.Unmarshal(ex.Body, &in) != nil {
				continue
			}
			got = fieldOf(t, ValidateContent(&in))
		default:
			continue
		}
		checked++
		if got != ex.Field {
			t.Errorf("%s: field = %q, want %q", name, got, ex.Field)
		}
	}
	if checked < 10 {
		t.Errorf("only %d vectors checked", checked)
	}
}

func TestReasonPresenceFromJSON(t *testing.T) {
	var a, b SignupAccount
	if err := json.Unmarshal([]byte(`{"username":"x","email":"x@y.example","reason":""}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"username":"x","email":"x@y.example"}`), &b); err != nil {
		t.Fatal(err)
	}
	if !a.ReasonRequired || b.ReasonRequired {
		t.Fatalf("presence: %v %v", a.ReasonRequired, b.ReasonRequired)
	}
}
