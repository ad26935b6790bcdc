package screening

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/breakwater-fasp/breakwater/provider/signals"
	"github.com/breakwater-fasp/breakwater/provider/similarity"
)

// Options configures an Engine. The command that serves Breakwater fills it
// from configuration; the engine reads nothing else.
type Options struct {
	// Now is the clock (tests drive time through it); nil means time.Now.
	Now func() time.Time
	// HashKey is the secret for keyed hashes of e-mail addresses, IP
	// addresses, accounts and tokens (HMAC-SHA256 / keyed SipHash), at
	// least 16 bytes. Raw e-mail and IP addresses are never stored or
	// logged; changing the key makes persisted Features incomparable.
	HashKey []byte
	// Resolver answers MX lookups; nil turns the MX check off (offline
	// deployments).
	Resolver MXResolver
	// MXTimeout bounds one MX lookup (default 500ms). An unanswered or
	// failed lookup adds nothing and never rejects.
	MXTimeout time.Duration
	// DisposableDomains replaces the embedded disposable-mail list
	// (signals.DefaultDisposableDomains); nil keeps the embedded list.
	DisposableDomains []string
	// DenyEmailDomains and DenyLinkDomains are the provider's own deny
	// lists, applied to every server on top of each server's policy.
	DenyEmailDomains []string
	DenyLinkDomains  []string
	// SpamPhrases is the provider's list of known spam phrases
	// (keyword_rule), matched on word boundaries after normalisation.
	SpamPhrases []string
	// Retention is how long window state is kept in memory (default 14
	// days); Prune drops what is older.
	Retention time.Duration
	// MemoryBudget bounds, approximately, the bytes the windows and the
	// near-duplicate indexes hold (default DefaultMemoryBudget). Half goes
	// to the per-key windows, 30 % to the post text index and 10 % each to
	// the media and sign-up reason indexes. Past it, the least recently
	// seen keys are evicted and the oldest index generations dropped: the
	// windows get shorter, memory does not grow. Stats reports both.
	MemoryBudget int64
}

// Defaults for Options.
const (
	DefaultMXTimeout    = 500 * time.Millisecond
	DefaultRetention    = 14 * 24 * time.Hour
	DefaultMemoryBudget = 512 << 20
)

// spreadRecSize is what a near-duplicate index's record holds: the struct,
// its members, and the allocator's rounding of small slices.
func spreadRecSize(v *spreadRec) int {
	return int(unsafe.Sizeof(spreadRec{})) + 16 + int(unsafe.Sizeof(member{}))*(cap(v.accounts.m)+cap(v.servers.m))
}

// Engine is the in-memory decision engine shared by all customer servers:
// its windows see every server's sign-ups and posts, which is what lets it
// recognise a wave that no single server can. It is safe for concurrent use;
// state is sharded and locked finely, and no goroutines are started.
type Engine struct {
	now       func() time.Time
	retention time.Duration
	resolver  MXResolver
	mxTimeout time.Duration
	lists     *signals.Lists

	macPool  sync.Pool // HMAC-SHA256 keyed with HashKey
	keys     similarity.Hasher
	tokens   similarity.Hasher
	shingles similarity.Hasher

	sigs      []signals.Registered
	defaults  []any // decoded default params per signal
	sigIndex  map[string]int
	adjusters []int

	win     *windows
	text    *similarity.LSH[spreadRec]
	reasons *similarity.LSH[spreadRec]
	media   *similarity.LSH[spreadRec]
	mx      mxCache

	policies      policyCache
	defaultPolicy *compiledPolicy

	learn *learner
	nb    *bayes

	// campaigns is the network-wide campaign lookup the campaign signal
	// reads (set once by the provider at start-up; nil: no campaigns).
	campaigns atomic.Pointer[campaignLookup]
}

type campaignLookup struct{ signals.CampaignLookup }

// SetCampaigns gives the engine the network-wide campaigns to match checks
// against (provider/campaigns, through the provider). Until it is called,
// the campaign signal never fires.
func (e *Engine) SetCampaigns(l signals.CampaignLookup) {
	if l == nil {
		e.campaigns.Store(nil)
		return
	}
	e.campaigns.Store(&campaignLookup{l})
}

func (e *Engine) campaignLookup() signals.CampaignLookup {
	if l := e.campaigns.Load(); l != nil {
		return l.CampaignLookup
	}
	return nil
}

// New builds an engine from options, validating them.
func New(opts Options) (*Engine, error) {
	if len(opts.HashKey) < 16 {
		return nil, errors.New("screening: HashKey must be at least 16 bytes")
	}
	e := &Engine{
		now:       opts.Now,
		retention: opts.Retention,
		resolver:  opts.Resolver,
		mxTimeout: opts.MXTimeout,
		mx:        mxCache{m: map[string]mxEntry{}},
		learn:     newLearner(),
		nb:        newBayes(),
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.retention == 0 {
		e.retention = DefaultRetention
	}
	if e.retention < time.Hour {
		return nil, errors.New("screening: Retention must be at least an hour")
	}
	if e.mxTimeout <= 0 {
		e.mxTimeout = DefaultMXTimeout
	}
	budget := opts.MemoryBudget
	if budget == 0 {
		budget = DefaultMemoryBudget
	}
	if budget < 1<<20 {
		return nil, errors.New("screening: MemoryBudget must be at least 1 MiB")
	}
	e.win = newWindows(budget / 2)
	share := func(pct int64) int64 { return budget * pct / 100 }
	key := append([]byte(nil), opts.HashKey...)
	e.macPool.New = func() any { return hmac.New(sha256.New, key) }
	e.keys = similarity.NewHasher(key, "keys")
	e.tokens = similarity.NewHasher(key, "tokens")
	e.shingles = similarity.NewHasher(key, "shingles")

	lists, err := buildLists(opts)
	if err != nil {
		return nil, err
	}
	e.lists = lists

	e.sigs = signals.All()
	e.sigIndex = make(map[string]int, len(e.sigs))
	for i, r := range e.sigs {
		e.sigIndex[r.Info.Code] = i
		e.defaults = append(e.defaults, signals.MustDefaults(r.Info.Code))
		if _, ok := r.Signal.(signals.Adjuster); ok {
			e.adjusters = append(e.adjusters, i)
		}
	}
	// Each index probes just enough bands to guarantee the largest distance
	// its signal's param allows (bands + probed bands - 1): text 6, media
	// 8, reasons 4. Generations are short (a minute for posts, an hour for
	// sign-up reasons) so that an index at its MaxBytes drops a small
	// slice of its oldest history to make room, and refuses new entries
	// only if one generation alone fills it.
	if e.text, err = similarity.NewLSH(similarity.LSHConfig[spreadRec]{Bands: 4, ProbeBands: 3, Span: time.Minute, Keep: 62,
		MaxBytes: share(30), Size: spreadRecSize}); err != nil {
		return nil, err
	}
	if e.media, err = similarity.NewLSH(similarity.LSHConfig[spreadRec]{Bands: 5, ProbeBands: 4, Span: time.Minute, Keep: 62,
		MaxBytes: share(10), Size: spreadRecSize}); err != nil {
		return nil, err
	}
	if e.reasons, err = similarity.NewLSH(similarity.LSHConfig[spreadRec]{Bands: 4, ProbeBands: 1, Span: time.Hour, Keep: 26,
		MaxBytes: share(10), Size: spreadRecSize}); err != nil {
		return nil, err
	}
	if e.defaultPolicy, err = e.compile(DefaultPolicy(), true); err != nil {
		return nil, err
	}
	return e, nil
}

func buildLists(opts Options) (*signals.Lists, error) {
	disposable := opts.DisposableDomains
	if disposable == nil {
		disposable = signals.DefaultDisposableDomains()
	}
	norm := func(name string, in []string) (signals.DomainSet, error) {
		out := make([]string, 0, len(in))
		for _, d := range in {
			n, err := signals.NormalizeDomain(d)
			if err != nil {
				return nil, errors.New("screening: " + name + ": " + err.Error())
			}
			out = append(out, n)
		}
		return signals.NewDomainSet(out), nil
	}
	var l signals.Lists
	var err error
	if l.Disposable, err = norm("DisposableDomains", disposable); err != nil {
		return nil, err
	}
	if l.DenyEmailDomains, err = norm("DenyEmailDomains", opts.DenyEmailDomains); err != nil {
		return nil, err
	}
	if l.DenyLinkDomains, err = norm("DenyLinkDomains", opts.DenyLinkDomains); err != nil {
		return nil, err
	}
	for _, p := range opts.SpamPhrases {
		if n := similarity.Normalize(p); n != "" {
			l.SpamPhrases = append(l.SpamPhrases, n)
		}
	}
	return &l, nil
}

// mac is the keyed HMAC-SHA256 of label and data, truncated to 64 bits
// (never 0, which means "absent").
func (e *Engine) mac(label string, data []byte) uint64 {
	h := e.macPool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(label))
	h.Write([]byte{0})
	h.Write(data)
	var sum [sha256.Size]byte
	v := binary.BigEndian.Uint64(h.Sum(sum[:0]))
	e.macPool.Put(h)
	return nonZero(v)
}

func nonZero(v uint64) uint64 {
	if v == 0 {
		return 1
	}
	return v
}

func (e *Engine) serverKey(serverID string) uint64 {
	return nonZero(e.keys.Sum64Parts("server", serverID))
}

func (e *Engine) linkKey(domain string) uint64 {
	return nonZero(e.keys.Sum64Parts("link", domain))
}

// Stats describes the engine's memory: how many series and fingerprints it
// holds, and what staying within MemoryBudget has cost.
type Stats struct {
	Series          int    // per-key window series
	SeriesBytes     int64  // their estimated bytes (evictable kinds)
	SeriesEvictions uint64 // series evicted for the budget since start

	Text, Media, Reasons similarity.LSHStats
}

// Stats reports the engine's memory use.
func (e *Engine) Stats() Stats {
	st := Stats{SeriesEvictions: e.win.evictions.Load(),
		Text: e.text.Stats(), Media: e.media.Stats(), Reasons: e.reasons.Stats()}
	st.Series, st.SeriesBytes = e.win.totals()
	return st
}

// Prune drops window state older than Retention, near-duplicate index
// generations older than their window, and stale MX answers. The caller
// runs it periodically; decisions do not depend on when it runs, because
// every query is bounded by the check's own time.
func (e *Engine) Prune() {
	now := e.now()
	e.win.prune(now, e.retention)
	e.text.Expire(now.Add(-textWindow - 2*time.Minute))
	e.media.Expire(now.Add(-mediaWindow - 2*time.Minute))
	e.reasons.Expire(now.Add(-reasonWindow - 2*time.Hour))
	e.mx.prune(now)
}
