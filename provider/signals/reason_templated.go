package signals

import (
	"context"
	"strings"
	"unicode"
)

// reasonTemplated flags sign-up reasons that are generic filler ("I want to
// join", "hello", "よろしくお願いします"), no words at all, the username
// again, or one word repeated. Real applicants write filler too, so the
// points are small; templates shared by many sign-ups are reason_duplicate.
type reasonTemplated struct{}

var _ Signal = (*reasonTemplated)(nil)

func init() { Register(&reasonTemplated{}) }

// fillerReasons are normalised, punctuation-free generic answers.
var fillerReasons = map[string]bool{}

func init() {
	for _, s := range []string{
		"hello", "hi", "hey", "hello there", "hi there", "test", "testing", "asdf", "qwerty", "nothing",
		"no reason", "none", "n a", "na", "because", "why not", "just because", "for fun", "fun",
		"join", "let me in", "i want to join", "i would like to join", "i d like to join", "i wanna join",
		"i want to join this server", "i want to join this instance", "i want to join mastodon",
		"i would like to join this server", "i would like to join this instance", "please accept",
		"please accept me", "please approve", "please approve me", "please let me in", "accept me",
		"approve me", "i like mastodon", "i love mastodon", "i want to make friends", "make friends",
		"to make friends", "looking for friends", "i want an account", "i need an account",
		"social media", "to chat", "chat", "for chatting", "i want to use this", "i want to try",
		"just looking", "curious", "interested", "im interested", "i am interested",
		"よろしく", "よろしくお願いします", "よろしくおねがいします", "参加したい", "参加したいです",
		"登録したい", "登録したいです", "はじめまして", "こんにちは",
		"你好", "我想加入", "加入", "请批准", "谢谢",
	} {
		fillerReasons[s] = true
	}
}

func (*reasonTemplated) Info() Info {
	return Info{Code: "reason_templated", Gate: GateSignup, Weight: 20,
		Description: "The sign-up reason is generic filler, has no words, repeats one word, or is the username."}
}

func (*reasonTemplated) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	s := in.Signup
	if !s.ReasonPresent || s.Reason == "" {
		return nil
	}
	words := fillerKey(s.Reason)
	hit := []Hit{{Code: "reason_templated", Points: 20, Message: "The sign-up reason is generic text seen in many sign-ups."}}
	switch {
	case len(s.ReasonTokens) == 0:
		if strings.IndexFunc(s.Reason, unicode.IsLetter) < 0 {
			return hit
		}
	case fillerReasons[words], fillerReasons[strings.ReplaceAll(words, " ", "")]:
		return hit
	case s.UsernameFold != "" && skeleton(words) == skeleton(s.UsernameFold):
		return hit
	case len(s.ReasonTokens) >= 4 && distinctCount(s.ReasonTokens)*3 <= len(s.ReasonTokens):
		return hit
	}
	return nil
}

// fillerKey keeps letters and digits, with one space between words, so
// "I want to join!!" and "i want to join" compare equal.
func fillerKey(reason string) string {
	return strings.Join(strings.FieldsFunc(reason, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

func distinctCount(tokens []string) int {
	seen := make(map[string]struct{}, len(tokens))
	for _, t := range tokens {
		seen[t] = struct{}{}
	}
	return len(seen)
}
