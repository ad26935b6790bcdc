package signals

import (
	"context"
	"time"
)

// directToStrangers is the May 2023 vector: private mentions from new
// accounts to people who do not follow them, usually with a scam link.
type directToStrangers struct{}

var _ Signal = (*directToStrangers)(nil)

func init() { Register(&directToStrangers{}) }

type directToStrangersParams struct {
	NewAccountDays int `json:"newAccountDays" min:"1" max:"365" desc:"authors younger than this many days count as new"`
}

func (*directToStrangers) Info() Info {
	return Info{Code: "direct_to_strangers", Gate: GateContent, Weight: 30,
		Description: "A direct (private mention) post from a new account to accounts that do not follow it; more with a link or media.",
		Defaults:    directToStrangersParams{NewAccountDays: 7}}
}

func (*directToStrangers) Evaluate(_ context.Context, in *Input, _ State, params any) []Hit {
	p := params.(*directToStrangersParams)
	c := in.Content
	if c.Visibility != "direct" || c.StrangerMentions == 0 || c.AuthorAge >= time.Duration(p.NewAccountDays)*24*time.Hour {
		return nil
	}
	if len(c.Links) > 0 || c.Media > 0 {
		return []Hit{{Code: "direct_to_strangers", Points: 45, Message: "A direct post with a link or media from a new account to accounts that do not follow it."}}
	}
	return []Hit{{Code: "direct_to_strangers", Points: 30, Message: "A direct post from a new account to accounts that do not follow it."}}
}
