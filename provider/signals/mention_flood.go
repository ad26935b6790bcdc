package signals

import "context"

// mentionFlood flags posts with very many mentions from any sender
// (Misskey's and Pleroma's caps are 20). When every mentioned account is
// known to follow the author it is a big friends' thread, so it weighs
// little (Misskey #13785 rejected exactly those).
type mentionFlood struct{}

var _ Signal = (*mentionFlood)(nil)

func init() { Register(&mentionFlood{}) }

type mentionFloodParams struct {
	Max int `json:"max" min:"1" max:"500" desc:"mentions above this are a flood"`
}

func (*mentionFlood) Info() Info {
	return Info{Code: "mention_flood", Gate: GateContent, Weight: LevelReview,
		Description: "The post mentions more accounts than max (weak when all of them follow the author).",
		Defaults:    mentionFloodParams{Max: 20}}
}

func (*mentionFlood) Evaluate(_ context.Context, in *Input, _ State, params any) []Hit {
	p := params.(*mentionFloodParams)
	c := in.Content
	if c.Mentions <= p.Max {
		return nil
	}
	if c.FollowerMentions == c.Mentions {
		return []Hit{{Code: "mention_flood", Points: 30, Message: "The post mentions an unusually large number of accounts, all of them followers."}}
	}
	return []Hit{{Code: "mention_flood", Points: LevelReview, Message: "The post mentions an unusually large number of accounts."}}
}
