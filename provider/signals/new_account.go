package signals

import (
	"context"
	"time"
)

// newAccount adds a little for young authors, the more the younger. It is
// an amplifier: alone it never reaches review, but it tips other weak
// signals over (every 2024 wave used accounts minutes or hours old).
type newAccount struct{}

var _ Signal = (*newAccount)(nil)

func init() { Register(&newAccount{}) }

func (*newAccount) Info() Info {
	return Info{Code: "new_account", Gate: GateContent, Weight: 20,
		Description: "The author's account age band: under an hour, a day, a week or a month (small additive weights)."}
}

func (*newAccount) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	age := in.Content.AuthorAge
	var pts float64
	switch {
	case age < time.Hour:
		pts = 25
	case age < 24*time.Hour:
		pts = 20
	case age < 7*24*time.Hour:
		pts = 10
	case age < 30*24*time.Hour:
		pts = 5
	default:
		return nil
	}
	return []Hit{{Code: "new_account", Points: pts, Message: "The account is " + ageBand(age) + "."}}
}
