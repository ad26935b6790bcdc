package handlers

import (
	"errors"
	"testing"
	"time"
)

func TestDecodeJSONNamesTheField(t *testing.T) {
	type mention struct {
		Acct string `json:"acct"`
	}
	type post struct {
		Text     string    `json:"text"`
		Mentions []mention `json:"mentions"`
	}
	type body struct {
		Post       post       `json:"post"`
		OccurredAt *time.Time `json:"occurredAt"`
		N          int        `json:"n"`
	}
	cases := []struct {
		in, field, code string
	}{
		{`{"post":{"text":5}}`, "post.text", "invalid_field"},
		{`{"post":{"mentions":[{"acct":"a"},{"acct":7}]}}`, "post.mentions[1].acct", "invalid_field"},
		{`{"post":{"mentions":{"acct":"a"}}}`, "post.mentions", "invalid_field"},
		{`{"n":"x"}`, "n", "invalid_field"},
		{`{"occurredAt":"yesterday"}`, "occurredAt", "invalid_field"},
		{`{"post":{"mentions":[{"acct":"a"}]},"n":true}`, "n", "invalid_field"},
		{`[1,2]`, "", "invalid_json"},
		{`{"post":`, "", "invalid_json"},
		{``, "", "invalid_json"},
		{`{} {}`, "", "invalid_json"},
	}
	for _, tc := range cases {
		var v body
		err := decodeJSON([]byte(tc.in), &v)
		var br *badRequest
		if !errors.As(err, &br) {
			t.Errorf("%s: error %v, want a client error", tc.in, err)
			continue
		}
		if br.code != tc.code || br.field != tc.field {
			t.Errorf("%s: code %q field %q, want %q %q (%s)", tc.in, br.code, br.field, tc.code, tc.field, br.msg)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"post":{"mentions":[{"acct":7}]}}`, `{"a":[[[{"b":1}]]]}`, `{"occurredAt":"x"}`, `[`, `{"n":1e999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct {
			Post struct {
				Mentions []struct {
					Acct string `json:"acct"`
				} `json:"mentions"`
			} `json:"post"`
			At *time.Time `json:"occurredAt"`
			N  int        `json:"n"`
		}
		_ = decodeJSON(b, &v)
		_ = pathAt(b, int64(len(b)/2))
	})
}
