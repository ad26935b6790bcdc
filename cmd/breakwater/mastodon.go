package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breakwater-fasp/breakwater/provider"
)

const mastodonUsage = `usage:
  breakwater mastodon add <https://mastodon.example> [--json]   (a server without FASP: prints its serverId)
  breakwater mastodon connect <serverId> --api-url <https://mastodon.example> --token <token>
                              [--webhook-secret <secret>] [--dry-run] [--signup-review report|note|none]
                              [--post-reject report|sensitive|silence|suspend] [--post-review report|none] [--json]
  breakwater mastodon set-secret <serverId>     (reads the secret Mastodon shows from standard input)
  breakwater mastodon status <serverId> [--json]
  breakwater mastodon disconnect <serverId>`

// cmdMastodon connects a registered server's Mastodon through its admin
// webhooks and Admin API. It works beside a running serve, on the same
// database; serve's worker does the processing.
func cmdMastodon(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		return usageErr(mastodonUsage)
	}
	sub, rest := args[0], args[1:]
	var (
		asJSON, dryRun                                    bool
		apiURL, token, secret, signupRev, postRej, postRv string
	)
	cfg, pos, err := parseFlags("mastodon "+sub, rest, io, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.StringVar(&apiURL, "api-url", "", "the Mastodon server's address, e.g. https://mastodon.example")
		fs.StringVar(&token, "token", "", "access token with admin:read:accounts admin:write:accounts (and write:reports)")
		fs.StringVar(&secret, "webhook-secret", "", "the secret Mastodon shows for the webhook (default: keep the current one, or generate one)")
		fs.BoolVar(&dryRun, "dry-run", false, "record what would be done on Mastodon without doing it")
		fs.StringVar(&signupRev, "signup-review", "report", "what a held sign-up gets: report, note or none")
		fs.StringVar(&postRej, "post-reject", "report", "what a rejected post gets: report, sensitive, silence or suspend")
		fs.StringVar(&postRv, "post-review", "report", "what a post held for review gets: report or none")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(mastodonUsage)
	}
	serverID := pos[0]
	switch sub {
	case "add", "connect", "set-secret", "status", "disconnect":
	default:
		return usageErr("unknown mastodon command %q\n%s", sub, mastodonUsage)
	}
	if sub == "connect" && (apiURL == "" || token == "") {
		return usageErr("connect needs --api-url and --token\n%s", mastodonUsage)
	}
	app, err := openApp(ctx, cfg, io, false)
	if err != nil {
		return err
	}
	defer app.Close(ctx)
	svc := app.svc
	switch sub {
	case "add":
		reg, err := svc.AddMastodonServer(ctx, pos[0])
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, map[string]string{"serverId": reg.ServerID, "domain": reg.Domain})
		}
		fmt.Fprintf(io.out, "Server ID: %s\n\nNext: breakwater mastodon connect %s --api-url %s --token <token>\n",
			reg.ServerID, reg.ServerID, strings.TrimSuffix(reg.BaseURL, "/api/fasp"))
		return nil
	case "connect":
		setup, err := svc.ConnectMastodon(ctx, serverID, provider.MastodonConnectInput{
			APIURL: apiURL, Token: token, WebhookSecret: secret,
			Settings: provider.MastodonSettings{DryRun: dryRun, SignupReview: signupRev, PostReject: postRej, PostReview: postRv},
		})
		if err != nil {
			return err
		}
		if asJSON {
			// The fixed shape scripts rely on.
			return writeJSON(io.out, map[string]string{"webhookUrl": setup.WebhookURL, "webhookSecret": setup.WebhookSecret})
		}
		printMastodonSetup(io.out, setup)
		return nil
	case "set-secret":
		line, err := bufio.NewReader(io.in).ReadString('\n')
		if err != nil && line == "" {
			return usageErr("paste the secret Mastodon shows for the webhook on standard input")
		}
		if err := svc.SetMastodonWebhookSecret(ctx, serverID, strings.TrimSpace(line)); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "webhook secret of server %s stored\n", serverID)
		return nil
	case "status":
		st, err := svc.MastodonStatus(ctx, serverID)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(io.out, st)
		}
		printMastodonStatus(io.out, st)
		return nil
	}
	if err := svc.DisconnectMastodon(ctx, serverID); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "server %s disconnected from Mastodon; delete the webhook on Mastodon's Administration → Webhooks page\n", serverID)
	return nil
}

func printMastodonSetup(w io.Writer, s *provider.MastodonSetup) {
	fmt.Fprintf(w, "Connected to %s (token checked).\n\n", s.APIURL)
	fmt.Fprintln(w, "On Mastodon, Administration → Webhooks → Add endpoint:")
	fmt.Fprintf(w, "  Endpoint URL:  %s\n", s.WebhookURL)
	fmt.Fprintf(w, "  Events:        %s\n", strings.Join(s.Events, ", "))
	fmt.Fprintf(w, "Webhook secret:  %s\n", s.WebhookSecret)
	fmt.Fprintln(w, "\nMastodon's webhook form has no secret field: it generates a secret and shows it on the webhook's page.")
	fmt.Fprintf(w, "Either copy that one to Breakwater:\n  breakwater mastodon set-secret %s   (paste it, then Enter)\n", s.ServerID)
	fmt.Fprintln(w, "or create the webhook with the secret above from Mastodon's directory instead of the form:")
	fmt.Fprintf(w, "  RAILS_ENV=production bin/rails runner 'Webhook.create!(url: %q, events: %%w(%s), secret: %q)'\n",
		s.WebhookURL, strings.Join(s.Events, " "), s.WebhookSecret)
	fmt.Fprintf(w, "\nSettings: dry run %s; held sign-ups: %s; rejected posts: %s; posts for review: %s\n",
		yesNo(s.Settings.DryRun), s.Settings.SignupReview, s.Settings.PostReject, s.Settings.PostReview)
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
}

func printMastodonStatus(w io.Writer, st *provider.MastodonStatus) {
	fmt.Fprintf(w, "Mastodon:      %s\nState:         %s\n", st.APIURL, st.State)
	if st.BrokenReason != "" {
		fmt.Fprintf(w, "Broken since:  %s: %s\n", st.BrokenAt.Format(time.RFC3339), st.BrokenReason)
	}
	fmt.Fprintf(w, "Webhook URL:   %s\nScopes:        %s\n", st.WebhookURL, strings.Join(st.Scopes, " "))
	fmt.Fprintf(w, "Settings:      dry run %s; held sign-ups: %s; rejected posts: %s; posts for review: %s\n",
		yesNo(st.Settings.DryRun), st.Settings.SignupReview, st.Settings.PostReject, st.Settings.PostReview)
	last := "never"
	if st.LastEventAt != nil {
		last = st.LastEventAt.Format(time.RFC3339)
	}
	fmt.Fprintf(w, "Last event:    %s\nEvents:        %s\nActions:       %s\n", last, counts(st.Events), counts(st.Actions))
	if len(st.RecentActions) == 0 {
		return
	}
	fmt.Fprintln(w, "\nRecent actions:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tKIND\tACCOUNT\tSTATE\tATTEMPTS\tDETAIL")
	for _, a := range st.RecentActions {
		detail := a.Error
		if a.ReportID != "" {
			detail = "report " + a.ReportID
		}
		if a.Feedback != "" {
			detail = strings.TrimSpace(detail + " feedback " + a.Feedback)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", a.CreatedAt.Format(time.RFC3339), a.Kind, a.AccountID, a.State, a.Attempts, detail)
	}
	_ = tw.Flush()
}

func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range []string{"pending", "done", "dry_run", "skipped", "failed"} {
		if n, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}
