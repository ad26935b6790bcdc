package main

import (
	"context"
	"flag"
	"fmt"
)

// cmdErase answers an erasure request: it deletes the stored details of
// every check about one person, found by e-mail address (sign-ups, on every
// server) or by account on one server (posts).
func cmdErase(ctx context.Context, args []string, io stdio) error {
	var email, serverID, acct string
	cfg, pos, err := parseFlags("erase", args, io, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "erase sign-up checks made with this e-mail address (all servers)")
		fs.StringVar(&serverID, "server", "", "with --account: the server the account is on")
		fs.StringVar(&acct, "account", "", "erase post checks of this account (user or user@domain) on --server")
	})
	if err != nil {
		return err
	}
	if len(pos) != 0 || (email == "") == (acct == "") || (acct != "" && serverID == "") {
		return usageErr("usage: breakwater erase --email <address> | --server <serverId> --account <acct>")
	}
	app, err := openApp(ctx, cfg, io, false)
	if err != nil {
		return err
	}
	defer app.Close(ctx)
	var n int64
	if email != "" {
		n, err = app.svc.EraseEmail(ctx, email)
	} else {
		n, err = app.svc.EraseAccount(ctx, serverID, acct)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "erased the details of %d checks\n", n)
	return nil
}
