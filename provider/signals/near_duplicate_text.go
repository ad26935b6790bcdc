package signals

import (
	"context"
	"time"
)

// nearDuplicateText finds the same text (mentions and URLs removed,
// normalised, SimHash within a few bits) posted by several accounts within
// an hour: the nuke-script waves posted one text from many fresh accounts
// on many small servers. Short texts are never fingerprinted.
type nearDuplicateText struct{}

var _ Signal = (*nearDuplicateText)(nil)

func init() { Register(&nearDuplicateText{}) }

type nearDuplicateTextParams struct {
	MaxDistance    int `json:"maxDistance" min:"0" max:"6" desc:"largest SimHash bit difference that counts as the same text (the index finds every match up to 6)"`
	ReviewAccounts int `json:"reviewAccounts" min:"2" max:"31" desc:"accounts (this one included) posting the text in an hour, on at least minServers servers, for review"`
	MinServers     int `json:"minServers" min:"1" max:"31" desc:"servers the review-level accounts must span"`
	RejectAccounts int `json:"rejectAccounts" min:"2" max:"31" desc:"accounts posting the text in an hour for reject"`
}

func (p *nearDuplicateTextParams) Validate() error {
	if p.RejectAccounts <= p.ReviewAccounts {
		return &ParamError{Param: "rejectAccounts", Message: "must be greater than reviewAccounts"}
	}
	return nil
}

func (*nearDuplicateText) Info() Info {
	return Info{Code: "near_duplicate_text", Gate: GateContent, Weight: LevelReview,
		Description: "Nearly the same text was posted by several accounts on several servers in the last hour.",
		Defaults:    nearDuplicateTextParams{MaxDistance: 6, ReviewAccounts: 3, MinServers: 2, RejectAccounts: 10}}
}

func (*nearDuplicateText) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*nearDuplicateTextParams)
	fp := in.Content.Fingerprint
	if fp == 0 {
		return nil
	}
	sp := st.NearText(fp, p.MaxDistance, time.Hour)
	switch {
	case sp.Accounts >= p.RejectAccounts:
		return []Hit{{Code: "near_duplicate_text", Points: LevelReject, Message: "Nearly the same text was posted by many other accounts in the last hour."}}
	case sp.Accounts >= p.ReviewAccounts && sp.Servers >= p.MinServers:
		return []Hit{{Code: "near_duplicate_text", Points: LevelReview, Message: "Nearly the same text was posted by other accounts on other servers in the last hour."}}
	case sp.Accounts >= p.ReviewAccounts:
		return []Hit{{Code: "near_duplicate_text", Points: 40, Message: "Nearly the same text was posted by other accounts on this server in the last hour."}}
	}
	return nil
}
