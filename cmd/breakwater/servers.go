package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breakwater-fasp/breakwater/provider"
)

const serversUsage = `usage:
  breakwater servers list [--json]
  breakwater servers show <serverId> [--json]
  breakwater servers register <server url> [--base-url <fasp base url>] [--admin-email <e-mail>] [--json]
  breakwater servers suspend <serverId>
  breakwater servers unsuspend <serverId>
  breakwater servers delete <serverId> --yes
  breakwater servers rotate-key <serverId> [--json]`

// cmdServers is the operator's management of registered servers. It works
// beside a running serve, on the same database.
func cmdServers(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		return usageErr(serversUsage)
	}
	sub, rest := args[0], args[1:]
	var (
		asJSON, yes   bool
		baseURL, mail string
	)
	cfg, pos, err := parseFlags("servers "+sub, rest, io, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&yes, "yes", false, "confirm deletion")
		fs.StringVar(&baseURL, "base-url", "", "the server's FASP base URL, when nodeinfo does not publish it")
		fs.StringVar(&mail, "admin-email", "", "the server admin's e-mail for alerts")
	})
	if err != nil {
		return err
	}
	need := func(n int) error {
		if len(pos) != n {
			return usageErr(serversUsage)
		}
		return nil
	}
	if sub == "delete" && !yes {
		return usageErr("deleting a server erases all its data: add --yes to confirm")
	}
	app, err := openApp(ctx, cfg, io, false)
	if err != nil {
		return err
	}
	defer app.Close(ctx)
	svc := app.svc
	switch sub {
	case "list":
		if err := need(0); err != nil {
			return err
		}
		list, err := svc.ListServers(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, list)
		}
		tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVER ID\tDOMAIN\tSTATUS\tCONFIRMED\tCAPABILITIES\tREGISTERED")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Domain, s.Status, yesNo(s.ConfirmedAt != nil),
				strings.Join(s.Capabilities, ","), s.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "show":
		if err := need(1); err != nil {
			return err
		}
		s, err := svc.GetServer(ctx, pos[0])
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, s)
		}
		fmt.Fprintf(io.out, "Server ID:     %s\nDomain:        %s\nServer URL:    %s\nFASP base URL: %s\nSoftware:      %s\nStatus:        %s\nConfirmed:     %s\nCapabilities:  %s\n",
			s.ID, s.Domain, s.ServerURL, s.BaseURL, s.Software, s.Status, yesNo(s.ConfirmedAt != nil), strings.Join(s.Capabilities, ", "))
		for _, k := range s.Keys {
			fmt.Fprintf(io.out, "Key %d:         %s fingerprint %s faspId %s\n", k.ID, k.State, k.Fingerprint, k.FaspID)
		}
		return nil
	case "register":
		if err := need(1); err != nil {
			return err
		}
		r, err := svc.Register(ctx, provider.RegisterInput{ServerURL: pos[0], BaseURL: baseURL, ContactEmail: mail})
		if err != nil {
			return err
		}
		return printRegistration(io.out, r, asJSON)
	case "rotate-key":
		if err := need(1); err != nil {
			return err
		}
		r, err := svc.RotateKey(ctx, pos[0])
		if err != nil {
			return err
		}
		if !asJSON {
			fmt.Fprintf(io.out, "New key registered. The old key stays valid for %s.\n", cfg.KeyGrace)
		}
		return printRegistration(io.out, r, asJSON)
	case "suspend", "unsuspend":
		if err := need(1); err != nil {
			return err
		}
		if err := svc.SuspendServer(ctx, pos[0], sub == "suspend"); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "server %s %sed\n", pos[0], sub)
		return nil
	case "delete":
		if err := need(1); err != nil {
			return err
		}
		if !yes {
			return usageErr("deleting a server erases all its data: add --yes to confirm")
		}
		if err := svc.DeleteServer(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "server %s deleted\n", pos[0])
		return nil
	}
	return usageErr("unknown servers command %q\n%s", sub, serversUsage)
}

func printRegistration(w io.Writer, r *provider.Registration, asJSON bool) error {
	if asJSON {
		return writeJSON(w, map[string]string{
			"serverId": r.ServerID, "domain": r.Domain, "baseUrl": r.BaseURL,
			"fingerprint": r.Fingerprint, "registrationCompletionUri": r.CompletionURI,
		})
	}
	fmt.Fprintf(w, "Server ID:        %s\nFASP base URL:    %s\nKey fingerprint:  %s\nFinish on server: %s\n",
		r.ServerID, r.BaseURL, r.Fingerprint, r.CompletionURI)
	fmt.Fprintln(w, "\nOpen the link above as an admin of the server, check that it shows the same fingerprint, confirm,")
	fmt.Fprintln(w, "then enable the capabilities you want (signup_screening, content_screening, callback).")
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
