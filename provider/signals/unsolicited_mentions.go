package signals

import (
	"context"
	"time"
)

// unsolicitedMentions looks at mentions of accounts known NOT to follow the
// author, weighted by the author's age: the Feb/Oct 2024 waves were fresh
// accounts mentioning strangers, with a link or an image. Mentions of
// followers never count, so a friend's group thread passes.
type unsolicitedMentions struct{}

var _ Signal = (*unsolicitedMentions)(nil)

func init() { Register(&unsolicitedMentions{}) }

type unsolicitedMentionsParams struct {
	Min            int  `json:"min" min:"1" max:"500" desc:"non-follower mentions from a new account with a link or media that send the post to review"`
	Many           int  `json:"many" min:"2" max:"500" desc:"non-follower mentions from a new account that reject the post"`
	NewAccountDays int  `json:"newAccountDays" min:"1" max:"365" desc:"authors younger than this many days count as new"`
	CountUnknown   bool `json:"countUnknown" desc:"also count mentions whose follow state the server did not send"`
}

func (p *unsolicitedMentionsParams) Validate() error {
	if p.Many <= p.Min {
		return &ParamError{Param: "many", Message: "must be greater than min"}
	}
	return nil
}

func (*unsolicitedMentions) Info() Info {
	return Info{Code: "unsolicited_mentions", Gate: GateContent, Weight: LevelReview,
		Description: "Mentions of accounts that do not follow the author, weighted by the author's age and whether the post carries a link or media.",
		Defaults:    unsolicitedMentionsParams{Min: 2, Many: 5, NewAccountDays: 7}}
}

func (*unsolicitedMentions) Evaluate(_ context.Context, in *Input, _ State, params any) []Hit {
	p := params.(*unsolicitedMentionsParams)
	c := in.Content
	n := c.StrangerMentions
	if p.CountUnknown {
		n += c.UnknownMentions
	}
	if n < p.Min {
		return nil
	}
	young := c.AuthorAge < time.Duration(p.NewAccountDays)*24*time.Hour
	payload := len(c.Links) > 0 || c.Media > 0
	hit := func(pts float64, msg string) []Hit {
		return []Hit{{Code: "unsolicited_mentions", Points: pts, Message: msg}}
	}
	switch {
	case young && n >= p.Many:
		return hit(LevelReject, "A new account mentions many accounts that do not follow it.")
	case young && payload:
		return hit(LevelReview, "A new account mentions several accounts that do not follow it, with a link or media.")
	case young:
		return hit(30, "A new account mentions several accounts that do not follow it.")
	case n >= p.Many:
		return hit(35, "The post mentions many accounts that do not follow the author.")
	}
	return nil
}
