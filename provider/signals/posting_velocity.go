package signals

import (
	"context"
	"time"
)

// postingVelocity flags one account posting many posts with mentions in ten
// minutes: the nuke script looped posting mentions as fast as the server
// allowed (Mastodon's own limit is 300 posts per 3 hours).
type postingVelocity struct{}

var _ Signal = (*postingVelocity)(nil)

func init() { Register(&postingVelocity{}) }

type postingVelocityParams struct {
	Max int `json:"max" min:"1" max:"10000" desc:"posts with mentions by one account in 10 minutes above which it is a flood"`
}

func (*postingVelocity) Info() Info {
	return Info{Code: "posting_velocity", Gate: GateContent, Weight: LevelReview,
		Description: "The author posted more than max posts with mentions in the last 10 minutes.",
		Defaults:    postingVelocityParams{Max: 30}}
}

func (*postingVelocity) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*postingVelocityParams)
	c := in.Content
	if c.Mentions == 0 || c.AuthorKey == 0 {
		return nil
	}
	if st.Count(Key{KindAuthorMentionPosts, c.AuthorKey}, 10*time.Minute) <= p.Max {
		return nil
	}
	return []Hit{{Code: "posting_velocity", Points: LevelReview, Message: "The author is posting with mentions at an unusual rate."}}
}
