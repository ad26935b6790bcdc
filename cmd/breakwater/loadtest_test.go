package main

import "testing"

// TestDecisionOf: the load generator's cheap read of an answer's decision
// agrees with a full decode, whatever the answer's layout.
func TestDecisionOf(t *testing.T) {
	for _, tc := range []struct{ answer, want string }{
		{`{"checkId":"01h","decision":"reject","score":80,"reasons":[{"code":"x","message":"m \"decision\":\"allow\"","weight":80}]}`, "reject"},
		{`{"decision":"allow","score":0,"reasons":[]}`, "allow"},
		{"{\n  \"decision\": \"review\"\n}", "review"}, // not compact: the full decode
		{`{"score":0}`, ""},
		{`not json`, ""},
		{`{"decision":""}`, ""},
	} {
		if got := decisionOf([]byte(tc.answer)); got != tc.want {
			t.Errorf("decisionOf(%s) = %q, want %q", tc.answer, got, tc.want)
		}
	}
}
