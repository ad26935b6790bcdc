package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

const adminsUsage = `usage:
  breakwater admins create-operator <e-mail>   (reads the password from standard input)
  breakwater admins reset-password <e-mail>    (reads the new password from standard input)
  breakwater admins list-operators`

// cmdAdmins manages web accounts: the operator's own, and password resets
// for anyone when e-mail is not configured. Passwords come from standard
// input, never from the command line, where other users could see them.
func cmdAdmins(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		return usageErr(adminsUsage)
	}
	sub, rest := args[0], args[1:]
	cfg, pos, err := parseFlags("admins "+sub, rest, io, nil)
	if err != nil {
		return err
	}
	want := map[string]int{"create-operator": 1, "reset-password": 1, "list-operators": 0}
	n, ok := want[sub]
	if !ok || len(pos) != n {
		return usageErr(adminsUsage)
	}
	app, err := openApp(ctx, cfg, io, false)
	if err != nil {
		return err
	}
	defer app.Close(ctx)
	switch sub {
	case "create-operator":
		pw, err := readPassword(io)
		if err != nil {
			return err
		}
		if err := app.svc.CreateOperator(ctx, pos[0], pw); err != nil {
			return fmt.Errorf("create operator: %w", err)
		}
		fmt.Fprintf(io.out, "operator account created; sign in at %s\n", strings.TrimSuffix(cfg.publicURL.String(), "/")+"/login")
		return nil
	case "reset-password":
		pw, err := readPassword(io)
		if err != nil {
			return err
		}
		if err := app.svc.SetPassword(ctx, pos[0], pw); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		fmt.Fprintln(io.out, "password changed; the account was signed out everywhere")
		return nil
	default:
		list, err := app.svc.Operators(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "E-MAIL\tCREATED\tLAST SIGN-IN")
		for _, a := range list {
			last := "never"
			if a.LastLoginAt != nil {
				last = a.LastLoginAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Email, a.CreatedAt.Format(time.RFC3339), last)
		}
		return tw.Flush()
	}
}

// readPassword takes the first line of standard input.
func readPassword(io stdio) (string, error) {
	if io.in == nil {
		return "", errors.New("no standard input to read the password from")
	}
	fmt.Fprint(io.err, "Password (first line of standard input): ")
	line, err := bufio.NewReader(io.in).ReadString('\n')
	if err != nil && !errors.Is(err, ioEOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprintln(io.err)
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("read password: standard input is empty")
	}
	return line, nil
}

var ioEOF = io.EOF
