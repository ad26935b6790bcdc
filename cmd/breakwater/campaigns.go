package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breakwater-fasp/breakwater/provider"
)

const campaignsUsage = `usage:
  breakwater campaigns list [--status active|dismissed|expired] [--json]
  breakwater campaigns show <campaignId> [--json]
  breakwater campaigns confirm <campaignId> [--by <name>]
  breakwater campaigns dismiss <campaignId> [--by <name>]
  breakwater campaigns extend <campaignId> [--by <name>]
  breakwater campaigns origins [--json]
  breakwater campaigns alerts <serverId> [--webhook-url <url>] [--email <address>] [--clear] [--test] [--json]`

// cmdCampaigns is the operator's view of network-wide campaigns: list and
// inspect them, confirm, dismiss (a false positive: it stops applying and
// its evidence never opens a campaign again) or extend one, and set where a
// server's alerts go. It works beside a running serve on the same database:
// replicas pick the change up at once on PostgreSQL, within seconds on
// SQLite.
func cmdCampaigns(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		return usageErr(campaignsUsage)
	}
	sub, rest := args[0], args[1:]
	var (
		asJSON, clear, test   bool
		status, by, hook, eml string
	)
	cfg, pos, err := parseFlags("campaigns "+sub, rest, io, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.StringVar(&status, "status", "", "list only campaigns in this state: active, dismissed or expired")
		fs.StringVar(&by, "by", os.Getenv("USER"), "who takes the action, for the record")
		fs.StringVar(&hook, "webhook-url", "", "alerts: the server's webhook URL (signed POSTs)")
		fs.StringVar(&eml, "email", "", "alerts: the address alerts are e-mailed to (default: the server's admin accounts)")
		fs.BoolVar(&clear, "clear", false, "alerts: remove the webhook URL and e-mail address")
		fs.BoolVar(&test, "test", false, "alerts: queue a test alert")
	})
	if err != nil {
		return err
	}
	need := func(n int) error {
		if len(pos) != n {
			return usageErr(campaignsUsage)
		}
		return nil
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
		list, err := svc.ListCampaigns(ctx, provider.CampaignFilter{Status: status, Limit: 1000})
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, list)
		}
		tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CAMPAIGN\tKIND\tSTATUS\tCONFIRMED\tHITS\tSERVERS\tOPENED\tLAST HIT\tLABEL")
		for _, c := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", c.ID, c.Kind, c.Status, confirmedText(c), c.Hits, c.Servers,
				c.OpenedAt.Format(time.RFC3339), c.LastHitAt.Format(time.RFC3339), c.Label)
		}
		return tw.Flush()
	case "show", "confirm", "dismiss", "extend":
		if err := need(1); err != nil {
			return err
		}
		var d *provider.CampaignDetail
		if sub == "show" {
			d, err = svc.GetCampaign(ctx, pos[0])
		} else {
			d, err = svc.CampaignAction(ctx, pos[0], sub, by)
		}
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, d)
		}
		printCampaign(io, d)
		return nil
	case "origins":
		if err := need(0); err != nil {
			return err
		}
		list, err := svc.OriginReputations(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, list)
		}
		tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ORIGIN\tSCORE\tHITS\tGHOST SHIP\tLAST SEEN\tSOURCE OF")
		for _, o := range list {
			var ids []string
			for _, c := range o.Campaigns {
				ids = append(ids, c.ID)
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%d\t%s\t%s\t%s\n", o.Domain, o.Score, o.Hits, yesNo(o.Ghost), o.LastSeen.Format(time.RFC3339), strings.Join(ids, " "))
		}
		return tw.Flush()
	case "alerts":
		if err := need(1); err != nil {
			return err
		}
		set, err := svc.AlertSettings(ctx, pos[0])
		if err != nil {
			return err
		}
		if clear {
			set = provider.AlertSettings{}
		}
		if hook != "" {
			set.WebhookURL = hook
		}
		if eml != "" {
			set.Email = eml
		}
		if clear || hook != "" || eml != "" {
			if set, err = svc.SetAlertSettings(ctx, pos[0], set); err != nil {
				return err
			}
		}
		if test {
			id, err := svc.TestAlert(ctx, pos[0])
			if err != nil {
				return err
			}
			if id == "" {
				return fmt.Errorf("test alert not queued: this server reached its hourly alert limit")
			}
			fmt.Fprintf(io.err, "test alert %s queued; a running breakwater serve delivers it\n", id)
		}
		if asJSON {
			return writeJSON(io.out, set)
		}
		fmt.Fprintf(io.out, "webhook: %s\ne-mail:  %s\n", orNone(set.WebhookURL), orNone(set.Email))
		return nil
	}
	return usageErr(campaignsUsage)
}

func confirmedText(c provider.CampaignSummary) string {
	switch {
	case c.OperatorConfirmed:
		return "operator"
	case c.Confirmed:
		return "feedback"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func printCampaign(io stdio, d *provider.CampaignDetail) {
	w := io.out
	fmt.Fprintf(w, "campaign   %s (%s)\nlabel      %s\nstatus     %s, confirmed: %s\n", d.ID, d.Kind, d.Label, d.Status, confirmedText(d.CampaignSummary))
	fmt.Fprintf(w, "opened     %s\nlast hit   %s\n", d.OpenedAt.Format(time.RFC3339), d.LastHitAt.Format(time.RFC3339))
	if !d.ExpiresAt.IsZero() {
		fmt.Fprintf(w, "expires    %s unless hit again\n", d.ExpiresAt.Format(time.RFC3339))
	}
	if d.ConfirmedBy != "" {
		fmt.Fprintf(w, "confirmed  by %s\n", d.ConfirmedBy)
	}
	if d.DismissedBy != "" {
		fmt.Fprintf(w, "dismissed  by %s\n", d.DismissedBy)
	}
	fmt.Fprintf(w, "hits       %d on %d servers\n", d.Hits, d.Servers)
	fmt.Fprintf(w, "evidence   %d texts, %d images, %d sign-up patterns", d.Evidence.Texts, d.Evidence.Images, d.Evidence.Signups)
	if len(d.Evidence.Links) > 0 {
		fmt.Fprintf(w, ", links %s", strings.Join(d.Evidence.Links, " "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSERVER\tHITS\tACCOUNTS\tSPAM/HAM\tFIRST SEEN\tLAST SEEN")
	for _, p := range d.ServerPresence {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d/%d\t%s\t%s\n", p.ServerID, p.Hits, p.Accounts, p.Spam, p.Ham, p.FirstSeen.Format(time.RFC3339), p.LastSeen.Format(time.RFC3339))
	}
	fmt.Fprintln(tw, "\nORIGIN\tHITS\tACCOUNTS\tSOURCE\tFIRST SEEN\tLAST SEEN")
	for _, p := range d.Origins {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", p.Domain, p.Hits, p.Accounts, yesNo(p.Source), p.FirstSeen.Format(time.RFC3339), p.LastSeen.Format(time.RFC3339))
	}
	_ = tw.Flush()
}
