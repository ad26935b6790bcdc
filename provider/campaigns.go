package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/campaigns"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/screening"
	"github.com/breakwater-fasp/breakwater/provider/signals"
)

// Network-wide campaigns. provider/campaigns decides (pure, in memory); this
// file stores and shares: the campaigns table is the source of truth, a
// replica that opens or changes a campaign announces it with NOTIFY and the
// others reload it, hits are counted by the replica that screened the check
// and written in batches every second. Every replica observes every check
// (its own in store, the others' through the checks channel), so their
// trackers agree on candidates and growth.

// CampaignOptions tunes campaigns, the server feed and alerts.
type CampaignOptions struct {
	// Params are the detection thresholds; zero means the defaults of
	// campaigns.DefaultParams.
	Params campaigns.Params
	// AlertsPerHour caps the alerts one server gets in an hour (default 6).
	AlertsPerHour int
	// AlertAttempts is how often a delivery is tried before it is given up
	// (default 8); AlertBackoff the first retry delay, doubled each time up
	// to an hour (default 30s).
	AlertAttempts int
	AlertBackoff  time.Duration
	// FlushEvery is how often counted hits are written (default 1s).
	FlushEvery time.Duration
	// MemoryBudget bounds the candidate clusters held in memory (default
	// campaigns.DefaultMemoryBudget).
	MemoryBudget int64
}

func (o *CampaignOptions) setDefaults() {
	if o.Params == (campaigns.Params{}) {
		o.Params = campaigns.DefaultParams()
	}
	if o.AlertsPerHour <= 0 {
		o.AlertsPerHour = 6
	}
	if o.AlertAttempts <= 0 {
		o.AlertAttempts = 8
	}
	if o.AlertBackoff <= 0 {
		o.AlertBackoff = 30 * time.Second
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
}

// campaignState is the Service's campaign machinery.
type campaignState struct {
	opts CampaignOptions
	tr   *campaigns.Tracker

	// openMu serialises opening on this replica (the store serialises
	// replicas).
	openMu sync.Mutex

	mu      sync.Mutex
	pending map[string]*pendingHits
	domains map[string]string

	wake   chan struct{} // alert deliveries are waiting
	flush  chan chan struct{}
	worker string
	// started is set once Start runs the campaign jobs; commands that
	// never start the service have nothing to flush.
	started atomic.Bool
}

// pendingHits is what local checks added to one campaign since the last
// flush.
type pendingHits struct {
	hits     int64
	last     time.Time
	evidence bool
	servers  map[string]int64
	origins  map[string]int64
}

// newCampaignState builds the tracker and hands the engine its lookup.
func newCampaignState(s *Service) (*campaignState, error) {
	opts := s.opts.Campaigns
	opts.setDefaults()
	tr, err := campaigns.New(campaigns.Options{Now: s.now, Params: opts.Params, MemoryBudget: opts.MemoryBudget})
	if err != nil {
		return nil, err
	}
	cs := &campaignState{opts: opts, tr: tr, pending: map[string]*pendingHits{}, domains: map[string]string{},
		wake: make(chan struct{}, 1), flush: make(chan chan struct{}), worker: "alerts-" + s.replica}
	if s.engine != nil {
		s.engine.SetCampaigns(engineLookup{cs.tr})
	}
	return cs, nil
}

// engineLookup adapts the tracker to the campaign signal.
type engineLookup struct{ tr *campaigns.Tracker }

func (l engineLookup) MatchCampaign(q signals.CampaignQuery) (signals.CampaignMatch, bool) {
	m, ok := l.tr.Match(campaigns.Query{Gate: q.Gate, At: q.At, Text: q.Text, Media: q.Media, PHashes: q.PHashes, Links: q.Links, Signup: q.Signup})
	return signals.CampaignMatch{ID: m.ID, Confirmed: m.Confirmed}, ok
}

func (l engineLookup) BurstCampaign(serverID string, at time.Time) (string, bool) {
	return l.tr.BurstExplained(serverID, at)
}

// campaignNote is the NOTIFY payload announcing a campaign change.
type campaignNote struct {
	Replica string `json:"r"`
	ID      string `json:"id"`
}

func (s *Service) campaignNote(id string) string {
	b, _ := json.Marshal(campaignNote{Replica: s.replica, ID: id})
	return string(b)
}

// startCampaigns loads campaigns and origin reputations, replays the
// candidate window of recent checks, and starts the flusher, the alert
// sender and (on PostgreSQL) the listener for other replicas' campaigns.
func (s *Service) startCampaigns(ctx context.Context) error {
	cs := s.camp
	if cs == nil || s.engine == nil {
		return nil
	}
	rows, err := s.db.ListCampaigns(ctx, models.CampaignFilter{Limit: 1000})
	if err != nil {
		return fmt.Errorf("load campaigns: %w", err)
	}
	for i := range rows {
		if err := s.reloadCampaign(ctx, rows[i].ID); err != nil {
			return err
		}
	}
	p := cs.tr.Params()
	reps, err := s.db.OriginReputations(ctx, s.now().Add(-p.Quiet))
	if err != nil {
		return fmt.Errorf("load origin reputations: %w", err)
	}
	for _, r := range reps {
		cs.tr.InstallOrigin(originFromRow(r))
	}
	last, err := s.db.LastFeedback(ctx)
	if err != nil {
		return fmt.Errorf("load last feedback: %w", err)
	}
	for id, at := range last {
		cs.tr.NoteFeedback(id, at)
	}
	window := max(p.Text.Window, p.Media.Window, p.Link.Window, p.Signup.Window, p.GhostWindow)
	err = s.db.EachRecentCheck(ctx, s.now().Add(-window), func(c *models.Check) error {
		var f screening.Features
		if c.Features == "" || json.Unmarshal([]byte(c.Features), &f) != nil {
			return nil
		}
		ev := s.campaignEvent(ctx, c.ID, c.ServerID, &f, c.CreatedAt, c.Decision)
		ev.Replay = true
		cs.tr.Observe(ev)
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay checks into campaign candidates: %w", err)
	}
	cs.started.Store(true)
	s.jobs.Add(2)
	go func() { defer s.jobs.Done(); s.campaignLoop() }()
	go func() { defer s.jobs.Done(); s.alertLoop() }()
	if s.opts.DatabaseURL != "" {
		lctx, cancel := context.WithCancel(context.Background())
		s.jobs.Add(1)
		go func() {
			defer s.jobs.Done()
			go func() { <-s.stopJobs; cancel() }()
			s.listenCampaigns(lctx)
		}()
	}
	return nil
}

// campaignLoop flushes hits every FlushEvery, expires quiet campaigns and
// prunes candidates every minute, until the service closes.
func (s *Service) campaignLoop() {
	cs := s.camp
	ctx := s.bgCtx
	tick := time.NewTicker(cs.opts.FlushEvery)
	defer tick.Stop()
	minutely := time.NewTicker(time.Minute)
	defer minutely.Stop()
	// Changes made by other processes (an operator's command on SQLite, a
	// missed notification) are picked up from the table every few seconds.
	sync := time.NewTicker(5 * time.Second)
	defer sync.Stop()
	synced := time.Now()
	for {
		select {
		case <-s.stopJobs:
			s.flushCampaigns(context.WithoutCancel(ctx))
			return
		case <-sync.C:
			started := time.Now()
			if ids, err := s.db.CampaignsChangedSince(ctx, s.now().Add(-time.Since(synced)-time.Second)); err == nil {
				for _, id := range ids {
					_ = s.reloadCampaign(ctx, id)
				}
				synced = started
			}
		case done := <-cs.flush:
			s.flushCampaigns(ctx)
			close(done)
		case <-tick.C:
			s.flushCampaigns(ctx)
		case <-minutely.C:
			s.expireCampaigns(ctx)
			cs.tr.Prune(s.now())
			if _, err := s.db.PruneAlerts(ctx, s.now().Add(-s.opts.Retention)); err != nil {
				s.opts.Logger.Warn("prune alerts", "error", err)
			}
		}
	}
}

// FlushCampaigns writes counted campaign hits now (tests, the simulator).
func (s *Service) FlushCampaigns(ctx context.Context) {
	if s.camp == nil || !s.camp.started.Load() {
		return
	}
	done := make(chan struct{})
	select {
	case s.camp.flush <- done:
		select {
		case <-done:
		case <-ctx.Done():
		}
	case <-s.stopJobs:
	case <-ctx.Done():
	}
}

// listenCampaigns reloads campaigns other replicas announce.
func (s *Service) listenCampaigns(ctx context.Context) {
	fn := func(payload string) {
		var n campaignNote
		if err := json.Unmarshal([]byte(payload), &n); err != nil || n.Replica == s.replica || n.ID == "" {
			return
		}
		if err := s.reloadCampaign(ctx, n.ID); err != nil {
			s.opts.Logger.Warn("reload campaign announced by another replica", "campaign_id", n.ID, "error", err)
		}
	}
	onConnect := func() {
		// Catch up on changes missed while disconnected: reload every
		// campaign changed recently.
		rows, err := s.db.ListCampaigns(ctx, models.CampaignFilter{Limit: 1000})
		if err != nil {
			return
		}
		for _, r := range rows {
			if c, ok := s.camp.tr.Get(r.ID); !ok || c.Status != campaigns.Status(r.Status) || r.UpdatedAt.After(c.LastHitAt) {
				_ = s.reloadCampaign(ctx, r.ID)
			}
		}
	}
	if err := s.db.Listen(ctx, s.opts.DatabaseURL, models.CampaignsChannel, onConnect, fn); err != nil {
		s.opts.Logger.Error("listen for other replicas' campaigns", "error", err)
	}
}

// reloadCampaign installs a campaign from the store into the tracker.
func (s *Service) reloadCampaign(ctx context.Context, id string) error {
	row, servers, origins, err := s.db.GetCampaign(ctx, id)
	if err != nil {
		return fmt.Errorf("load campaign %s: %w", id, err)
	}
	c, err := campaignFromRows(row, servers, origins)
	if err != nil {
		return err
	}
	s.camp.tr.Install(c)
	return nil
}

// serverDomain is a customer server's domain, cached.
func (s *Service) serverDomain(ctx context.Context, serverID string) string {
	cs := s.camp
	cs.mu.Lock()
	d, ok := cs.domains[serverID]
	cs.mu.Unlock()
	if ok {
		return d
	}
	srv, err := s.db.GetServer(ctx, serverID)
	if err != nil {
		return ""
	}
	cs.mu.Lock()
	cs.domains[serverID] = srv.Domain
	cs.mu.Unlock()
	return srv.Domain
}

// campaignEvent turns a check's persisted features into the tracker's view.
func (s *Service) campaignEvent(ctx context.Context, checkID, serverID string, f *screening.Features, at time.Time, decision string) campaigns.Event {
	ev := campaigns.Event{CheckID: checkID, ServerID: serverID, ServerDomain: s.serverDomain(ctx, serverID), Gate: f.Gate, At: at,
		Account: uint64(f.AccountKey), Flagged: decision != screening.Allow, Campaign: f.Campaign}
	switch f.Gate {
	case screening.GateContent:
		ev.AuthorAge = time.Duration(f.AuthorAgeSeconds) * time.Second
		ev.Local, ev.Origin = f.Origin == "", f.Origin
		ev.Text = uint64(f.TextPrint)
		for _, k := range f.MediaKeys {
			ev.Media = append(ev.Media, uint64(k))
		}
		for _, k := range f.MediaPHashes {
			ev.PHashes = append(ev.PHashes, uint64(k))
		}
		ev.Links = f.LinkDomains
		ev.Mentions = f.Mentions
		ev.Direct = f.Visibility == "direct"
	case screening.GateSignup:
		ev.Signup = uint64(f.SignupPattern)
		ev.BurstSignup = slices.Contains(f.Signals, "server_signup_burst")
	}
	return ev
}

// observeCampaigns feeds one stored check to the tracker: from store (local,
// this replica screened it and counts its hits) or from another replica.
// Proposals are opened and notices queued as alerts here.
func (s *Service) observeCampaigns(ctx context.Context, checkID, serverID string, f *screening.Features, at time.Time, decision string, local bool) {
	cs := s.camp
	if cs == nil || f == nil {
		return
	}
	ev := s.campaignEvent(ctx, checkID, serverID, f, at, decision)
	res := cs.tr.Observe(ev)
	if res.Campaign != "" && local {
		cs.mu.Lock()
		p := cs.pending[res.Campaign]
		if p == nil {
			p = &pendingHits{servers: map[string]int64{}, origins: map[string]int64{}}
			cs.pending[res.Campaign] = p
		}
		p.hits++
		if at.After(p.last) {
			p.last = at
		}
		p.servers[serverID]++
		domain := strings.ToLower(ev.ServerDomain)
		if !ev.Local && ev.Origin != "" {
			domain = strings.ToLower(ev.Origin)
		}
		if domain != "" {
			p.origins[domain]++
		}
		if !res.NewEvidence.Empty() {
			p.evidence = true
		}
		cs.mu.Unlock()
	}
	if res.Proposal != nil {
		if err := s.openCampaign(context.WithoutCancel(ctx), res.Proposal); err != nil {
			s.opts.Logger.ErrorContext(ctx, "open campaign", "error", err)
		}
	}
	for _, n := range res.Notices {
		s.enqueueNotice(context.WithoutCancel(ctx), n)
	}
}

// openCampaign stores a proposal as a new campaign unless one already
// covers it (opened by this replica a moment ago, or by another), then
// installs it and alerts the servers it reached.
func (s *Service) openCampaign(ctx context.Context, p *campaigns.Proposal) error {
	cs := s.camp
	cs.openMu.Lock()
	defer cs.openMu.Unlock()
	if _, ok := cs.tr.Covered(p.Kind, p.Evidence, p.At); ok {
		return nil
	}
	c := campaigns.NewCampaign("cmp_"+models.NewID(p.At), p, cs.tr.Params())
	row, servers, origins, err := campaignToRows(&c)
	if err != nil {
		return err
	}
	same := func(active []models.Campaign) string {
		for i := range active {
			var e campaigns.Evidence
			if json.Unmarshal([]byte(active[i].Evidence), &e) == nil && cs.tr.Overlaps(e, c.Evidence) {
				return active[i].ID
			}
		}
		return ""
	}
	existing, err := s.db.OpenCampaign(ctx, row, servers, origins, same, s.campaignNote(c.ID))
	if err != nil {
		return fmt.Errorf("store campaign: %w", err)
	}
	if existing != "" {
		return s.reloadCampaign(ctx, existing)
	}
	cs.tr.Install(c)
	s.opts.Logger.InfoContext(ctx, "campaign opened", "campaign_id", c.ID, "kind", c.Kind, "servers", len(c.Servers), "checks", c.Hits)
	for _, sp := range c.Servers {
		s.enqueueNotice(ctx, campaigns.Notice{Kind: campaigns.NoticeCampaign, ServerID: sp.Key, CampaignID: c.ID, Since: sp.FirstSeen,
			Hits: sp.Hits, Accounts: sp.Accounts, Samples: sp.Samples})
	}
	for _, op := range c.Origins {
		if op.Source && op.ServerID != "" {
			s.enqueueNotice(ctx, campaigns.Notice{Kind: campaigns.NoticeSource, ServerID: op.ServerID, Domain: op.Key, CampaignID: c.ID,
				Since: op.FirstSeen, Hits: op.Hits, Accounts: op.Accounts, Samples: op.Samples})
		}
	}
	return nil
}

// flushCampaigns writes the hits local checks added, and changed origin
// reputations.
func (s *Service) flushCampaigns(ctx context.Context) {
	cs := s.camp
	cs.mu.Lock()
	pending := cs.pending
	cs.pending = map[string]*pendingHits{}
	cs.mu.Unlock()
	var batch []models.CampaignHits
	for id, p := range pending {
		c, ok := cs.tr.Get(id)
		if !ok {
			continue
		}
		h := models.CampaignHits{CampaignID: id, Hits: p.hits, LastHitAt: p.last}
		if p.evidence {
			b, _ := json.Marshal(c.Evidence)
			h.Evidence = string(b)
		}
		for _, sp := range c.Servers {
			if n := p.servers[sp.Key]; n > 0 {
				h.Servers = append(h.Servers, models.CampaignServer{CampaignID: id, ServerID: sp.Key, FirstSeen: sp.FirstSeen.UTC(),
					LastSeen: sp.LastSeen.UTC(), Hits: n, Accounts: sp.Accounts, Samples: jsonList(sp.Samples)})
			}
		}
		for _, op := range c.Origins {
			if n := p.origins[op.Key]; n > 0 {
				h.Origins = append(h.Origins, originRow(id, op, n))
			}
		}
		batch = append(batch, h)
	}
	if len(batch) > 0 {
		if err := s.db.RecordCampaignHits(ctx, batch, s.now()); err != nil {
			s.opts.Logger.Error("record campaign hits", "error", err)
		}
	}
	if dirty := cs.tr.DirtyOrigins(); len(dirty) > 0 {
		rows := make([]models.OriginReputation, len(dirty))
		for i, o := range dirty {
			rows[i] = models.OriginReputation{Domain: o.Domain, ServerID: o.ServerID, Score: o.Score, ScoreAt: o.ScoreAt.UTC(),
				FirstSeen: o.FirstSeen.UTC(), LastSeen: o.LastSeen.UTC(), Hits: o.Hits, GhostSince: timePtr(o.GhostSince), UpdatedAt: s.now()}
		}
		if err := s.db.SaveOriginReputations(ctx, rows); err != nil {
			s.opts.Logger.Error("save origin reputations", "error", err)
		}
	}
}

// expireCampaigns stores campaigns whose quiet period passed as expired.
func (s *Service) expireCampaigns(ctx context.Context) {
	now := s.now()
	ids := s.camp.tr.Expired(now)
	if len(ids) == 0 {
		return
	}
	changed, err := s.db.ExpireCampaigns(ctx, ids, now.Add(-s.camp.tr.Params().Quiet), now)
	if err != nil {
		s.opts.Logger.Error("expire campaigns", "error", err)
		return
	}
	for _, id := range ids {
		if err := s.reloadCampaign(ctx, id); err != nil {
			s.opts.Logger.Warn("reload expired campaign", "campaign_id", id, "error", err)
		}
	}
	for _, id := range changed {
		s.opts.Logger.Info("campaign expired", "campaign_id", id)
		_ = s.db.Notify(ctx, models.CampaignsChannel, s.campaignNote(id))
	}
}

// ExpireCampaignsNow runs the expiry job at once (tests, operators).
func (s *Service) ExpireCampaignsNow(ctx context.Context) {
	if s.camp != nil {
		s.expireCampaigns(ctx)
	}
}

// campaignFeedback follows moderators' verdicts: a verdict on a campaign's
// check counts towards confirming (or disputing) it, and any verdict shows
// the server is managed (ghost-ship detection).
func (s *Service) campaignFeedback(ctx context.Context, serverID string, row *models.Check, verdict, prev string) {
	cs := s.camp
	if cs == nil {
		return
	}
	cs.tr.NoteFeedback(serverID, s.now())
	if row.CampaignID == "" || verdict == prev {
		return
	}
	spam, ham := 0, 0
	for v, d := range map[string]int{verdict: 1, prev: -1} {
		switch v {
		case "spam":
			spam += d
		case "ham":
			ham += d
		}
	}
	if err := s.db.AddCampaignFeedback(ctx, row.CampaignID, serverID, spam, ham, s.now()); err != nil {
		s.opts.Logger.WarnContext(ctx, "count campaign feedback", "campaign_id", row.CampaignID, "error", err)
		return
	}
	if cs.tr.Feedback(row.CampaignID, serverID, verdict, prev) {
		_ = s.db.Notify(ctx, models.CampaignsChannel, s.campaignNote(row.CampaignID))
	}
}

// CampaignFilter narrows ListCampaigns.
type CampaignFilter struct {
	// Status is active, dismissed, expired or "" for all.
	Status string
	Limit  int
}

// CampaignSummary is a campaign as listings show it.
type CampaignSummary struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Status string `json:"status"`
	// Confirmed by the operator or by moderators' feedback;
	// OperatorConfirmed only by the operator.
	Confirmed         bool      `json:"confirmed"`
	OperatorConfirmed bool      `json:"operatorConfirmed"`
	OpenedAt          time.Time `json:"openedAt"`
	LastHitAt         time.Time `json:"lastHitAt"`
	// ExpiresAt is when an active campaign stops applying unless hit.
	ExpiresAt time.Time `json:"expiresAt"`
	Hits      int64     `json:"hits"`
	Servers   int       `json:"servers"`
	Sources   []string  `json:"sources"`
}

// CampaignPresence is a campaign on one customer server or from one origin.
type CampaignPresence struct {
	ServerID  string    `json:"serverId,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	Hits      int64     `json:"hits"`
	Accounts  int       `json:"accounts"`
	Spam      int       `json:"spam,omitempty"`
	Ham       int       `json:"ham,omitempty"`
	Source    bool      `json:"source,omitempty"`
	// SampleChecks are check ids, so an admin can find the accounts.
	SampleChecks []string `json:"sampleChecks,omitempty"`
}

// CampaignDetail is one campaign for the operator.
type CampaignDetail struct {
	CampaignSummary
	ConfirmedBy   string     `json:"confirmedBy,omitempty"`
	ConfirmedAt   *time.Time `json:"confirmedAt,omitempty"`
	DismissedBy   string     `json:"dismissedBy,omitempty"`
	DismissedAt   *time.Time `json:"dismissedAt,omitempty"`
	ExtendedUntil *time.Time `json:"extendedUntil,omitempty"`
	// Evidence counts the fingerprints it matches on; link hosts are
	// listed (they are not personal data).
	Evidence struct {
		Texts   int      `json:"texts"`
		Images  int      `json:"images"`
		Links   []string `json:"links,omitempty"`
		Signups int      `json:"signupPatterns"`
	} `json:"evidence"`
	ServerPresence []CampaignPresence `json:"serverPresence"`
	Origins        []CampaignPresence `json:"origins"`
}

// ServerCampaign is a campaign as one customer server's admin sees it: the
// campaign, and its presence on that server only.
type ServerCampaign struct {
	CampaignSummary
	OnThisServer CampaignPresence `json:"onThisServer"`
}

func (s *Service) summary(c *campaigns.Campaign) CampaignSummary {
	p := s.camp.tr.Params()
	sum := CampaignSummary{ID: c.ID, Kind: string(c.Kind), Label: c.Label, Status: string(c.Status),
		Confirmed: c.Confirmed(p.FeedbackServers), OperatorConfirmed: c.OperatorConfirmed(), OpenedAt: c.OpenedAt,
		LastHitAt: c.LastHitAt, Hits: c.Hits, Servers: len(c.Servers), Sources: []string{}}
	if c.Status == campaigns.StatusActive {
		sum.ExpiresAt = c.ExpiresAt(p.Quiet)
	}
	for _, o := range c.Origins {
		if o.Source {
			sum.Sources = append(sum.Sources, o.Key)
		}
	}
	return sum
}

func presence(p campaigns.Presence, server bool) CampaignPresence {
	out := CampaignPresence{FirstSeen: p.FirstSeen, LastSeen: p.LastSeen, Hits: p.Hits, Accounts: p.Accounts, Spam: p.Spam,
		Ham: p.Ham, Source: p.Source, SampleChecks: slices.Clone(p.Samples)}
	if server {
		out.ServerID = p.Key
	} else {
		out.Domain, out.ServerID = p.Key, p.ServerID
	}
	return out
}

// ListCampaigns lists campaigns from the store, newest first (operator).
func (s *Service) ListCampaigns(ctx context.Context, f CampaignFilter) ([]CampaignSummary, error) {
	if s.camp == nil {
		return nil, errors.New("campaigns are not available in this command")
	}
	switch f.Status {
	case "", string(campaigns.StatusActive), string(campaigns.StatusDismissed), string(campaigns.StatusExpired):
	default:
		return nil, fault.Invalid("status", "must be active, dismissed or expired")
	}
	rows, err := s.db.ListCampaigns(ctx, models.CampaignFilter{Status: f.Status, Limit: f.Limit})
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := make([]CampaignSummary, 0, len(rows))
	for i := range rows {
		d, err := s.GetCampaign(ctx, rows[i].ID)
		if err != nil {
			return nil, err
		}
		out = append(out, d.CampaignSummary)
	}
	return out, nil
}

// loadCampaign reads one campaign with its server and origin presence.
func (s *Service) loadCampaign(ctx context.Context, id string) (campaigns.Campaign, error) {
	if s.camp == nil {
		return campaigns.Campaign{}, errors.New("campaigns are not available in this command")
	}
	if !validID(id) {
		return campaigns.Campaign{}, fault.ErrNotFound
	}
	row, servers, origins, err := s.db.GetCampaign(ctx, id)
	if err != nil {
		return campaigns.Campaign{}, dbErr("load campaign", err)
	}
	return campaignFromRows(row, servers, origins)
}

// GetCampaign returns one campaign with its presence on every server and
// origin (operator).
func (s *Service) GetCampaign(ctx context.Context, id string) (*CampaignDetail, error) {
	c, err := s.loadCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &CampaignDetail{CampaignSummary: s.summary(&c), ConfirmedBy: c.ConfirmedBy, DismissedBy: c.DismissedBy,
		ConfirmedAt: timePtr(c.ConfirmedAt), DismissedAt: timePtr(c.DismissedAt), ExtendedUntil: timePtr(c.ExtendedUntil)}
	d.Evidence.Texts, d.Evidence.Images, d.Evidence.Signups = len(c.Evidence.Texts), len(c.Evidence.Media)+len(c.Evidence.PHashes), len(c.Evidence.Signups)
	d.Evidence.Links = slices.Clone(c.Evidence.Links)
	for _, p := range c.Servers {
		d.ServerPresence = append(d.ServerPresence, presence(p, true))
	}
	for _, p := range c.Origins {
		d.Origins = append(d.Origins, presence(p, false))
	}
	return d, nil
}

// CampaignAction is the operator's confirm, dismiss or extend (see
// campaigns.Apply). by names the operator, for the record. The change is
// stored, announced to the other replicas and applied here at once.
func (s *Service) CampaignAction(ctx context.Context, id, action, by string) (*CampaignDetail, error) {
	c, err := s.loadCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c, err = campaigns.Apply(c, action, strings.TrimSpace(by), now, s.camp.tr.Params().Quiet)
	if err != nil {
		return nil, fault.Invalid("action", "%s", err.Error())
	}
	next, _, _, err := campaignToRows(&c)
	if err != nil {
		return nil, err
	}
	next.UpdatedAt = now
	if err := s.db.SaveCampaignState(ctx, next, s.campaignNote(id)); err != nil {
		return nil, dbErr("store campaign", err)
	}
	if err := s.reloadCampaign(ctx, id); err != nil {
		return nil, err
	}
	s.opts.Logger.InfoContext(ctx, "campaign "+action, "campaign_id", id)
	return s.GetCampaign(ctx, id)
}

// CampaignsForServer lists the campaigns that reached one customer server,
// with that server's own counts and sample checks only (for its admin).
func (s *Service) CampaignsForServer(ctx context.Context, serverID string) ([]ServerCampaign, error) {
	if s.camp == nil {
		return nil, errors.New("campaigns are not available in this command")
	}
	camps, rows, err := s.db.CampaignsForServer(ctx, serverID, 200)
	if err != nil {
		return nil, fmt.Errorf("list campaigns of server %s: %w", serverID, err)
	}
	mine := map[string]models.CampaignServer{}
	for _, r := range rows {
		mine[r.CampaignID] = r
	}
	out := make([]ServerCampaign, 0, len(camps))
	for i := range camps {
		c, err := campaignFromRows(&camps[i], nil, nil)
		if err != nil {
			return nil, err
		}
		sum := s.summary(&c)
		sum.Servers, sum.Sources = 0, []string{} // other servers are not this admin's business
		p, _ := serverPresence(mine[c.ID])
		out = append(out, ServerCampaign{CampaignSummary: sum, OnThisServer: presence(p, true)})
	}
	return out, nil
}

// OriginReputation is an origin server's standing, for the operator.
type OriginReputation struct {
	Domain string `json:"domain"`
	// ServerID is set when the origin is a customer server.
	ServerID string `json:"serverId,omitempty"`
	// Score counts its campaign checks, halving every day.
	Score     float64    `json:"score"`
	Hits      int64      `json:"hits"`
	FirstSeen time.Time  `json:"firstSeen"`
	LastSeen  time.Time  `json:"lastSeen"`
	Ghost     bool       `json:"ghostShip"`
	GhostAt   *time.Time `json:"ghostSince,omitempty"`
	// Campaigns are the campaigns it was a source of, with what it sent.
	Campaigns []OriginCampaign `json:"campaigns"`
}

// OriginCampaign is the evidence against an origin: one campaign it emitted.
type OriginCampaign struct {
	ID       string    `json:"id"`
	Label    string    `json:"label"`
	Status   string    `json:"status"`
	Hits     int64     `json:"hits"`
	Accounts int       `json:"accounts"`
	LastSeen time.Time `json:"lastSeen"`
}

// OriginReputations lists the origins that emitted campaign traffic within
// the quiet period (or are ghost ships), highest score first, each with
// the campaigns it emitted.
func (s *Service) OriginReputations(ctx context.Context) ([]OriginReputation, error) {
	if s.camp == nil {
		return nil, errors.New("campaigns are not available in this command")
	}
	now := s.now()
	p := s.camp.tr.Params()
	rows, err := s.db.OriginReputations(ctx, now.Add(-p.Quiet))
	if err != nil {
		return nil, fmt.Errorf("load origin reputations: %w", err)
	}
	camps, err := s.db.ListCampaigns(ctx, models.CampaignFilter{Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := make([]OriginReputation, 0, len(rows))
	byDomain := map[string]int{}
	for _, r := range rows {
		o := originFromRow(r)
		byDomain[r.Domain] = len(out)
		out = append(out, OriginReputation{Domain: r.Domain, ServerID: r.ServerID, Score: o.ScoreNow(now, p.HalfLife), Hits: r.Hits,
			FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(), Ghost: r.GhostSince != nil, GhostAt: r.GhostSince, Campaigns: []OriginCampaign{}})
	}
	for _, c := range camps {
		_, _, origins, err := s.db.GetCampaign(ctx, c.ID)
		if err != nil {
			return nil, dbErr("load campaign", err)
		}
		for _, o := range origins {
			if i, ok := byDomain[o.Domain]; ok && o.Source {
				out[i].Campaigns = append(out[i].Campaigns, OriginCampaign{ID: c.ID, Label: c.Label, Status: c.Status, Hits: o.Hits,
					Accounts: o.Accounts, LastSeen: o.LastSeen.UTC()})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b OriginReputation) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return strings.Compare(a.Domain, b.Domain)
	})
	return out, nil
}

// Campaign rows ↔ campaigns.Campaign.

func campaignFromRows(row *models.Campaign, servers []models.CampaignServer, origins []models.CampaignOrigin) (campaigns.Campaign, error) {
	c := campaigns.Campaign{ID: row.ID, Kind: campaigns.Kind(row.Kind), Label: row.Label, Status: campaigns.Status(row.Status),
		OpenedAt: row.OpenedAt.UTC(), LastHitAt: row.LastHitAt.UTC(), ConfirmedBy: row.ConfirmedBy, DismissedBy: row.DismissedBy, Hits: row.Hits}
	c.ExtendedUntil, c.ConfirmedAt, c.DismissedAt = deref(row.ExtendedUntil), deref(row.ConfirmedAt), deref(row.DismissedAt)
	if row.Evidence != "" {
		if err := json.Unmarshal([]byte(row.Evidence), &c.Evidence); err != nil {
			return c, fmt.Errorf("decode evidence of campaign %s: %w", row.ID, err)
		}
	}
	for _, r := range servers {
		p, _ := serverPresence(r)
		c.Servers = append(c.Servers, p)
	}
	for _, r := range origins {
		p := campaigns.Presence{Key: r.Domain, ServerID: r.ServerID, FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(), Hits: r.Hits,
			Accounts: r.Accounts, Source: r.Source, SourceAt: deref(r.SourceAt)}
		_ = json.Unmarshal([]byte(r.Samples), &p.Samples)
		c.Origins = append(c.Origins, p)
	}
	return c, nil
}

func serverPresence(r models.CampaignServer) (campaigns.Presence, error) {
	p := campaigns.Presence{Key: r.ServerID, FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(), Hits: r.Hits, Accounts: r.Accounts,
		Spam: r.Spam, Ham: r.Ham}
	err := json.Unmarshal([]byte(r.Samples), &p.Samples)
	if r.Samples == "" {
		err = nil
	}
	return p, err
}

func campaignToRows(c *campaigns.Campaign) (*models.Campaign, []models.CampaignServer, []models.CampaignOrigin, error) {
	ev, err := json.Marshal(c.Evidence)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode evidence: %w", err)
	}
	row := &models.Campaign{ID: c.ID, Kind: string(c.Kind), Label: c.Label, Status: string(c.Status), Evidence: string(ev),
		OpenedAt: c.OpenedAt.UTC(), LastHitAt: c.LastHitAt.UTC(), ExtendedUntil: timePtr(c.ExtendedUntil), ConfirmedAt: timePtr(c.ConfirmedAt),
		ConfirmedBy: c.ConfirmedBy, DismissedAt: timePtr(c.DismissedAt), DismissedBy: c.DismissedBy, Hits: c.Hits, UpdatedAt: c.OpenedAt.UTC()}
	var servers []models.CampaignServer
	for _, p := range c.Servers {
		servers = append(servers, models.CampaignServer{CampaignID: c.ID, ServerID: p.Key, FirstSeen: p.FirstSeen.UTC(), LastSeen: p.LastSeen.UTC(),
			Hits: p.Hits, Accounts: p.Accounts, Spam: p.Spam, Ham: p.Ham, Samples: jsonList(p.Samples)})
	}
	var origins []models.CampaignOrigin
	for _, p := range c.Origins {
		origins = append(origins, originRow(c.ID, p, p.Hits))
	}
	return row, servers, origins, nil
}

func originRow(id string, p campaigns.Presence, hits int64) models.CampaignOrigin {
	return models.CampaignOrigin{CampaignID: id, Domain: p.Key, ServerID: p.ServerID, FirstSeen: p.FirstSeen.UTC(), LastSeen: p.LastSeen.UTC(),
		Hits: hits, Accounts: p.Accounts, Source: p.Source, SourceAt: timePtr(p.SourceAt), Samples: jsonList(p.Samples)}
}

func originFromRow(r models.OriginReputation) campaigns.OriginReputation {
	return campaigns.OriginReputation{Domain: r.Domain, ServerID: r.ServerID, Score: r.Score, ScoreAt: r.ScoreAt.UTC(),
		FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(), Hits: r.Hits, GhostSince: deref(r.GhostSince)}
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
