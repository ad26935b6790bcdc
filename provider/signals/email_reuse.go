package signals

import (
	"context"
	"errors"
	"time"
)

// emailReuse flags one mailbox (after removing +tags and Gmail dots) signing
// up again and again: on several servers in a few days, or many times in a
// day. People do join a second server with the same address, so one other
// server is a weak signal; a spread or a burst is stronger.
type emailReuse struct{}

var _ Signal = (*emailReuse)(nil)

func init() { Register(&emailReuse{}) }

type emailReuseParams struct {
	Servers     int `json:"servers" min:"2" max:"31" desc:"distinct servers (this one included) in the last week that make the address reused"`
	ManyServers int `json:"manyServers" min:"2" max:"31" desc:"distinct servers in the last week that make the reuse strong"`
	ManyPerDay  int `json:"manyPerDay" min:"2" max:"1000" desc:"sign-ups with the address in the last day that make the reuse strong"`
}

func (p *emailReuseParams) Validate() error {
	if p.ManyServers < p.Servers {
		return errors.New("manyServers must not be below servers")
	}
	return nil
}

func (*emailReuse) Info() Info {
	return Info{Code: "email_reuse", Gate: GateSignup, Weight: 25,
		Description: "The canonical e-mail address was used for sign-ups on other servers in the last week, or many times in a day.",
		Defaults:    emailReuseParams{Servers: 2, ManyServers: 3, ManyPerDay: 3}}
}

func (*emailReuse) Evaluate(_ context.Context, in *Input, st State, params any) []Hit {
	p := params.(*emailReuseParams)
	k := in.Signup.EmailKey
	if k == 0 {
		return nil
	}
	key := Key{KindEmail, k}
	servers := st.Distinct(key, SetServers, 7*24*time.Hour)
	perDay := st.Count(key, 24*time.Hour)
	switch {
	case servers >= p.ManyServers || perDay >= p.ManyPerDay:
		return []Hit{{Code: "email_reuse", Points: 45, Message: "The same address was used for several sign-ups across the network in a short time."}}
	case servers >= p.Servers:
		return []Hit{{Code: "email_reuse", Points: 25, Message: "The same address was recently used to sign up on another server."}}
	}
	return nil
}
