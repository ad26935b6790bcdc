package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/campaigns"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// Alerts tell customer servers' admins about campaigns: when one reaches
// their server, when accounts of their server emit one (a source), and when
// their server looks unmanaged (a ghost ship). Each alert is recorded once
// per server and dedupe key, at most AlertsPerHour per server, and queued
// as deliveries (a signed webhook, e-mails) in the alert_deliveries table,
// which a worker on every replica drains with retries and backoff.

// Alert types.
const (
	AlertTypeCampaign = "campaign"
	AlertTypeSource   = "source"
	AlertTypeGhost    = "ghost_ship"
	AlertTypeTest     = "test"
)

// Delivery channels.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// AlertPayload is an alert as the webhook posts it (JSON) and as the e-mail
// and the web interface render it: what was seen, since when, what to do.
type AlertPayload struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	ServerID  string    `json:"serverId"`
	CreatedAt time.Time `json:"createdAt"`
	Summary   string    `json:"summary"`
	Seen      string    `json:"seen"`
	Since     time.Time `json:"since,omitzero"`
	Actions   []string  `json:"actions"`
	// Campaign is set on campaign and source alerts.
	Campaign *AlertCampaign `json:"campaign,omitempty"`
	// CheckIDs are checks of this server that belong to the alert, so the
	// admin can find the accounts (all of them carry the campaignId).
	CheckIDs []string `json:"checkIds,omitempty"`
}

// AlertCampaign describes the campaign of an alert.
type AlertCampaign struct {
	ID       string    `json:"id"`
	Label    string    `json:"label"`
	OpenedAt time.Time `json:"openedAt"`
	Servers  int       `json:"servers"`
	Checks   int64     `json:"checks"`
}

// AlertSettings is where a server's alerts go. An empty Email sends to the
// server's admin accounts (or its contact address); an empty WebhookURL
// sends no webhook.
type AlertSettings struct {
	WebhookURL string `json:"webhookUrl"`
	Email      string `json:"email"`
}

// AlertRecord is a recorded alert with its deliveries.
type AlertRecord struct {
	AlertPayload
	Deliveries []AlertDeliveryRecord `json:"deliveries"`
}

// AlertDeliveryRecord is one delivery of an alert.
type AlertDeliveryRecord struct {
	Channel       string     `json:"channel"`
	Target        string     `json:"target"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"nextAttemptAt"`
	LastError     string     `json:"lastError,omitempty"`
	LastStatus    int        `json:"lastStatus,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
}

// AlertSettings returns where a server's alerts go.
func (s *Service) AlertSettings(ctx context.Context, serverID string) (AlertSettings, error) {
	t, err := s.db.GetAlertTarget(ctx, serverID)
	if err != nil {
		return AlertSettings{}, fmt.Errorf("load alert settings of %s: %w", serverID, err)
	}
	return AlertSettings{WebhookURL: t.WebhookURL, Email: t.Email}, nil
}

// SetAlertSettings validates and stores where a server's alerts go: the
// webhook URL must be one the outbound client may call (http(s), no
// credentials, no private address), the e-mail a plain address.
func (s *Service) SetAlertSettings(ctx context.Context, serverID string, in AlertSettings) (AlertSettings, error) {
	in.WebhookURL, in.Email = strings.TrimSpace(in.WebhookURL), strings.TrimSpace(in.Email)
	if in.WebhookURL != "" {
		if _, err := s.http.CheckURL(in.WebhookURL); err != nil {
			var ve *fault.ValidationError
			if errors.As(err, &ve) {
				return in, fault.Invalid("webhookUrl", "%s", ve.Message)
			}
			return in, fault.Invalid("webhookUrl", "%s", err.Error())
		}
	}
	if in.Email != "" {
		a, err := mail.ParseAddress(in.Email)
		if err != nil || a.Address != in.Email || len(in.Email) > 320 {
			return in, fault.Invalid("email", "must be a plain address like admin@example.org")
		}
	}
	if _, err := s.db.GetServer(ctx, serverID); err != nil {
		return in, dbErr("load server", err)
	}
	if err := s.db.SetAlertTarget(ctx, &models.AlertTarget{ServerID: serverID, WebhookURL: in.WebhookURL, Email: in.Email, UpdatedAt: s.now()}); err != nil {
		return in, fmt.Errorf("store alert settings of %s: %w", serverID, err)
	}
	return in, nil
}

// TestAlert queues a test alert to the server's webhook and e-mail, for the
// "send a test" button: it goes through the same queue, signing and
// retries as real alerts (and counts towards the hourly limit).
func (s *Service) TestAlert(ctx context.Context, serverID string) (string, error) {
	now := s.now()
	p := AlertPayload{Type: AlertTypeTest, ServerID: serverID, CreatedAt: now,
		Summary: "Test alert from " + s.opts.Name,
		Seen:    "Nothing: this is a test of your alert settings.",
		Actions: []string{"None. If you received this, campaign alerts will reach you the same way."}}
	return s.recordAlert(ctx, p, "test:"+now.Format(time.RFC3339Nano))
}

// Alerts lists a server's alerts, newest first, with their deliveries.
func (s *Service) Alerts(ctx context.Context, serverID string, limit int) ([]AlertRecord, error) {
	alerts, deliveries, err := s.db.ListAlerts(ctx, serverID, limit)
	if err != nil {
		return nil, fmt.Errorf("list alerts of %s: %w", serverID, err)
	}
	out := make([]AlertRecord, 0, len(alerts))
	for _, a := range alerts {
		var r AlertRecord
		_ = json.Unmarshal([]byte(a.Payload), &r.AlertPayload)
		r.Deliveries = []AlertDeliveryRecord{}
		for _, d := range deliveries {
			if d.AlertID == a.ID {
				r.Deliveries = append(r.Deliveries, AlertDeliveryRecord{Channel: d.Channel, Target: d.Target, Status: d.Status,
					Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastError: d.LastError, LastStatus: d.LastStatus, DeliveredAt: d.DeliveredAt})
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// enqueueNotice turns a tracker notice into an alert for the server.
func (s *Service) enqueueNotice(ctx context.Context, n campaigns.Notice) {
	if n.ServerID == "" {
		return
	}
	p, key := s.composeAlert(n)
	if _, err := s.recordAlert(ctx, p, key); err != nil {
		s.opts.Logger.WarnContext(ctx, "record alert", "server_id", n.ServerID, "kind", n.Kind, "error", err)
	}
}

func (s *Service) composeAlert(n campaigns.Notice) (AlertPayload, string) {
	now := s.now()
	p := AlertPayload{ServerID: n.ServerID, CreatedAt: now, Since: n.Since, CheckIDs: n.Samples}
	var c campaigns.Campaign
	if n.CampaignID != "" {
		c, _ = s.camp.tr.Get(n.CampaignID)
		p.Campaign = &AlertCampaign{ID: n.CampaignID, Label: c.Label, OpenedAt: c.OpenedAt, Servers: len(c.Servers), Checks: c.Hits}
	}
	label := c.Label
	if label == "" {
		label = "spam"
	}
	switch n.Kind {
	case campaigns.NoticeSource:
		p.Type = AlertTypeSource
		p.Summary = fmt.Sprintf("Accounts on your server are sending spam campaign %s (%s)", n.CampaignID, label)
		p.Seen = fmt.Sprintf("%d sign-ups or posts of this campaign came from %d accounts of your server. The campaign is seen across %d servers.",
			n.Hits, n.Accounts, len(c.Servers))
		p.Actions = []string{
			"Close registrations, or require approval, until the wave is over.",
			"Suspend or delete the accounts behind the checks listed below (your server's screening log maps each checkId to an account; every check of this campaign carries campaignId " + n.CampaignID + ").",
			"Send spam feedback on those checks. While the campaign comes from your server, other servers may limit yours: it can appear in the provider's public server feed.",
		}
		return p, "source:" + n.CampaignID
	case campaigns.NoticeGhost:
		p.Type = AlertTypeGhost
		p.Summary = "Your server is receiving a burst of sign-ups and nobody is moderating"
		p.Seen = fmt.Sprintf("%d sign-ups held as part of a burst in the last hour, and no moderator decision on Breakwater's checks in the last %d days.",
			n.Hits, int(s.camp.tr.Params().GhostNoFeedback.Hours()/24))
		p.Actions = []string{
			"Close registrations or switch them to approval now: spam scripts target servers that look unmanaged.",
			"Review the held sign-ups and delete the spam accounts.",
			"Send feedback on Breakwater's decisions, so it knows the server is managed again.",
		}
		return p, "ghost:" + n.Since.UTC().Format("2006-01-02T15")
	default:
		p.Type = AlertTypeCampaign
		p.Summary = fmt.Sprintf("Spam campaign %s (%s) reached your server", n.CampaignID, label)
		p.Seen = fmt.Sprintf("Breakwater recognised a spam campaign (%s) across %d servers: %d sign-ups or posts so far, %d of them on your server.",
			label, len(c.Servers), c.Hits, n.Hits)
		p.Actions = []string{
			"Nothing is required: Breakwater now holds or rejects matching sign-ups and posts on your server (reason code campaign, campaignId " + n.CampaignID + ").",
			"Look through your moderation queue and reports for this campaignId to find the accounts and posts involved.",
			"If it is not spam, send ham feedback on the checks listed, so the provider's operator can dismiss the campaign.",
		}
		return p, "campaign:" + n.CampaignID
	}
}

// recordAlert stores an alert and its deliveries and wakes the sender. It
// returns the alert id ("" when the alert was a duplicate or over the
// hourly limit).
func (s *Service) recordAlert(ctx context.Context, p AlertPayload, key string) (string, error) {
	p.ID = "alt_" + models.NewID(p.CreatedAt)
	body, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	target, err := s.db.GetAlertTarget(ctx, p.ServerID)
	if err != nil {
		return "", err
	}
	var deliveries []models.AlertDelivery
	due := p.CreatedAt
	if target.WebhookURL != "" {
		deliveries = append(deliveries, models.AlertDelivery{ServerID: p.ServerID, Channel: ChannelWebhook, Target: target.WebhookURL,
			Status: models.DeliveryPending, NextAttemptAt: due, CreatedAt: due})
	}
	if s.MailEnabled() {
		for _, to := range s.alertRecipients(ctx, p.ServerID, target.Email) {
			deliveries = append(deliveries, models.AlertDelivery{ServerID: p.ServerID, Channel: ChannelEmail, Target: to,
				Status: models.DeliveryPending, NextAttemptAt: due, CreatedAt: due})
		}
	}
	a := &models.Alert{ID: p.ID, ServerID: p.ServerID, DedupeKey: key, Kind: p.Type, Payload: string(body), CreatedAt: p.CreatedAt}
	if p.Campaign != nil {
		a.CampaignID = p.Campaign.ID
	}
	outcome, err := s.db.InsertAlert(ctx, a, deliveries, s.camp.opts.AlertsPerHour)
	if err != nil {
		return "", fmt.Errorf("store alert: %w", err)
	}
	switch outcome {
	case models.AlertRateLimited:
		s.opts.Logger.WarnContext(ctx, "alert dropped: hourly limit reached", "server_id", p.ServerID, "kind", p.Type)
		return "", nil
	case models.AlertDuplicate:
		return "", nil
	}
	if len(deliveries) > 0 {
		select {
		case s.camp.wake <- struct{}{}:
		default:
		}
	}
	return p.ID, nil
}

// alertRecipients are the configured alert address, else the server's
// admin accounts, else its contact address.
func (s *Service) alertRecipients(ctx context.Context, serverID, configured string) []string {
	if configured != "" {
		return []string{configured}
	}
	var out []string
	if accounts, err := s.db.ListAccounts(ctx, serverID); err == nil {
		for _, a := range accounts {
			if a.Role == models.RoleAdmin && a.Email != "" {
				out = append(out, a.Email)
			}
		}
	}
	if len(out) == 0 {
		if srv, err := s.db.GetServer(ctx, serverID); err == nil && srv.ContactEmail != "" {
			out = append(out, srv.ContactEmail)
		}
	}
	return out
}

// alertLoop drains the delivery queue until the service closes.
func (s *Service) alertLoop() {
	cs := s.camp
	// In-flight deliveries are abandoned at shutdown (and retried later),
	// so a slow webhook or SMTP server never holds up Close.
	ctx, cancel := context.WithCancel(s.bgCtx)
	defer cancel()
	go func() {
		<-s.stopJobs
		cancel()
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.stopJobs:
			if err := s.db.ReleaseAlertLeases(context.WithoutCancel(ctx), cs.worker); err != nil {
				s.opts.Logger.Warn("release alert leases", "error", err)
			}
			return
		case <-cs.wake:
		case <-tick.C:
		}
		s.DeliverAlerts(ctx)
	}
}

// DeliverAlerts makes one pass over the due deliveries (the worker calls
// it every second; tests and the simulator may call it directly). It
// returns how many it attempted.
func (s *Service) DeliverAlerts(ctx context.Context) int {
	cs := s.camp
	if cs == nil {
		return 0
	}
	due, err := s.db.ClaimAlertDeliveries(ctx, models.Claim{Worker: cs.worker, Now: s.now(), Lease: 2 * time.Minute, Limit: 20})
	if err != nil {
		if ctx.Err() == nil {
			s.opts.Logger.Warn("claim alert deliveries", "error", err)
		}
		return 0
	}
	for i := range due {
		s.deliverAlert(ctx, &due[i])
	}
	return len(due)
}

func (s *Service) deliverAlert(ctx context.Context, d *models.AlertDelivery) {
	cs := s.camp
	a, err := s.db.GetAlert(ctx, d.AlertID)
	if err == nil {
		switch d.Channel {
		case ChannelWebhook:
			d.LastStatus, err = s.postAlert(ctx, a, d.Target)
		case ChannelEmail:
			var p AlertPayload
			if err = json.Unmarshal([]byte(a.Payload), &p); err == nil {
				mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err = s.sendMail(mctx, d.Target, s.alertMail(&p))
				cancel()
			}
		default:
			err = fmt.Errorf("unknown channel %q", d.Channel)
		}
	}
	now := s.now()
	d.Attempts++
	switch {
	case err == nil:
		d.Status, d.DeliveredAt, d.LastError = models.DeliveryDelivered, &now, ""
	case d.Attempts >= cs.opts.AlertAttempts:
		d.Status, d.LastError = models.DeliveryFailed, truncate(err.Error(), 1000)
		s.opts.Logger.Warn("alert delivery given up", "server_id", d.ServerID, "alert_id", d.AlertID, "channel", d.Channel, "attempts", d.Attempts, "error", err)
	default:
		d.Status, d.LastError = models.DeliveryPending, truncate(err.Error(), 1000)
		d.NextAttemptAt = now.Add(min(cs.opts.AlertBackoff<<(d.Attempts-1), time.Hour))
	}
	if err := s.db.FinishAlertDelivery(context.WithoutCancel(ctx), d); err != nil {
		s.opts.Logger.Error("record alert delivery", "alert_id", d.AlertID, "error", err)
	}
}

// postAlert posts the alert to the server's webhook through the guarded
// outbound client, signed like a FASP request from the provider (RFC 9421,
// Ed25519, keyid = the faspId the server gave Breakwater), so the receiver
// can verify it with the key it already holds. Any 2xx is success.
func (s *Service) postAlert(ctx context.Context, a *models.Alert, target string) (int, error) {
	sc, err := s.loadCreds(ctx, a.ServerID)
	if err != nil {
		return 0, fmt.Errorf("server keys: %w", err)
	}
	cred := sc.creds[0]
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	body := []byte(a.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Breakwater-Alert", a.ID)
	if err := msgsig.SignRequest(req, body, cred.faspID, cred.private, s.now()); err != nil {
		return 0, fmt.Errorf("sign alert: %w", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// alertMail renders an alert as a plain-text e-mail.
func (s *Service) alertMail(p *AlertPayload) Mail {
	var b strings.Builder
	b.WriteString(p.Summary + ".\n\n")
	b.WriteString("What was seen: " + p.Seen + "\n")
	if !p.Since.IsZero() {
		b.WriteString("Since: " + p.Since.UTC().Format("2006-01-02 15:04 MST") + "\n")
	}
	if p.Campaign != nil {
		fmt.Fprintf(&b, "Campaign: %s (%s), opened %s, seen on %d servers.\n", p.Campaign.ID, p.Campaign.Label,
			p.Campaign.OpenedAt.UTC().Format("2006-01-02 15:04 MST"), p.Campaign.Servers)
	}
	b.WriteString("\nWhat to do:\n")
	for _, a := range p.Actions {
		b.WriteString("  - " + a + "\n")
	}
	if len(p.CheckIDs) > 0 {
		b.WriteString("\nChecks of your server (checkId):\n")
		for _, id := range p.CheckIDs {
			b.WriteString("  " + id + "\n")
		}
	}
	fmt.Fprintf(&b, "\n-- \n%s, %s\nAlert %s. Alert settings: %s\n", s.opts.Name, s.opts.PublicURL.String(), p.ID, s.URL("/admin"))
	return Mail{Subject: "[" + s.opts.Name + "] " + p.Summary, Body: b.String()}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
