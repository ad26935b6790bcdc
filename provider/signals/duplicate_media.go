package signals

import (
	"context"
	"time"
)

// duplicateMedia finds the same image (exact SHA-256, or perceptual hash
// within a few bits) posted by several fresh accounts within an hour: the
// 2024 waves reused one image. Only accounts younger than FreshAge count,
// so a meme shared by established accounts does not fire.
type duplicateMedia struct{}

var _ Signal = (*duplicateMedia)(nil)

func init() { Register(&duplicateMedia{}) }

type duplicateMediaParams struct {
	MaxDistance   int `json:"maxDistance" min:"0" max:"8" desc:"largest perceptual-hash bit difference that counts as the same image (the index finds every match up to 8)"`
	FreshAccounts int `json:"freshAccounts" min:"2" max:"31" desc:"fresh accounts (this one included) posting the image in an hour for review"`
	RejectFresh   int `json:"rejectFresh" min:"2" max:"31" desc:"fresh accounts on at least two servers posting the image in an hour for reject"`
}

func (p *duplicateMediaParams) Validate() error {
	if p.RejectFresh <= p.FreshAccounts {
		return &ParamError{Param: "rejectFresh", Message: "must be greater than freshAccounts"}
	}
	return nil
}

func (*duplicateMedia) Info() Info {
	return Info{Code: "duplicate_media", Gate: GateContent, Weight: LevelReview,
		Description: "The same or a visually near-identical image was posted by several accounts younger than a week in the last hour.",
		Defaults:    duplicateMediaParams{MaxDistance: 8, FreshAccounts: 3, RejectFresh: 6}}
}

func (*duplicateMedia) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*duplicateMediaParams)
	c := in.Content
	if len(c.MediaKeys) == 0 && len(c.PHashes) == 0 {
		return nil
	}
	sp := st.NearMedia(c.MediaKeys, c.PHashes, p.MaxDistance, time.Hour)
	switch {
	case sp.FreshAccounts >= p.RejectFresh && sp.Servers >= 2:
		return []Hit{{Code: "duplicate_media", Points: LevelReject, Message: "The image was posted by many other new accounts across the network in the last hour."}}
	case sp.FreshAccounts >= p.FreshAccounts:
		return []Hit{{Code: "duplicate_media", Points: LevelReview, Message: "The image was posted by several other new accounts in the last hour."}}
	}
	return nil
}
