package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/provider/netguard"
)

// config is every setting, read from flags with BREAKWATER_* environment
// variables as defaults. It is read here and nowhere else.
type config struct {
	Listen             string
	PublicURL          string
	DatabaseURL        string
	DataDir            string
	SecretKey          string
	SecretKeyFile      string
	AllowPrivateRanges string
	TrustedProxies     string
	Name               string
	ContactEmail       string
	FediverseAccount   string
	SignatureMaxAge    time.Duration
	KeyGrace           time.Duration
	RateLimit          float64
	RateBurst          int
	MaxBodyBytes       int64
	MaxInFlight        int
	Retention          time.Duration
	MXCheck            bool
	EngineMemory       string
	ShutdownTimeout    time.Duration
	LogLevel           string
	LogFormat          string
	PprofListen        string
	// web interface
	RegistrationMode string
	InviteCode       string
	SMTPURL          string
	SMTPFrom         string
	PrivacyPolicyURL string
	PrivacyNoteFile  string

	// parsed
	privacyNote    string
	engineMemory   int64
	publicURL      *url.URL
	allowRanges    []netip.Prefix
	trustedProxies []netip.Prefix
}

// bind registers every setting on fs, each defaulting to its environment
// variable, so `breakwater <cmd> --help` documents them all.
func (c *config) bind(fs *flag.FlagSet) {
	str := func(p *string, name, env, def, help string) {
		if v, ok := os.LookupEnv(env); ok {
			def = v
		}
		fs.StringVar(p, name, def, help+" ($"+env+")")
	}
	dur := func(p *time.Duration, name, env string, def time.Duration, help string) {
		*p = def
		fs.Func(name, fmt.Sprintf("%s (default %s) ($%s)", help, def, env), func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("not a duration like 300s or 24h: %w", err)
			}
			*p = d
			return nil
		})
	}
	str(&c.Listen, "listen", "BREAKWATER_LISTEN", "127.0.0.1:8080", "address to listen on")
	str(&c.PublicURL, "public-url", "BREAKWATER_PUBLIC_URL", "", "public base URL servers reach and sign against, e.g. https://breakwater.example (default http://<listen>)")
	str(&c.DatabaseURL, "database-url", "BREAKWATER_DATABASE_URL", "", "postgres:// URL; empty uses the embedded SQLite file in the data directory")
	str(&c.DataDir, "data-dir", "BREAKWATER_DATA_DIR", "./data", "directory for the SQLite database and the generated secret key")
	str(&c.SecretKey, "secret-key", "BREAKWATER_SECRET_KEY", "", "secret that encrypts private keys and keys the hashes of e-mails and IPs (≥ 32 chars; 'new,old' during rotation)")
	str(&c.SecretKeyFile, "secret-key-file", "BREAKWATER_SECRET_KEY_FILE", "", "file holding the secret key (default <data-dir>/secret.key, created on first run)")
	str(&c.AllowPrivateRanges, "allow-private-ranges", "BREAKWATER_ALLOW_PRIVATE_RANGES", "", "comma-separated CIDRs outbound fetches may reach despite being private, e.g. 127.0.0.0/8 for local testing")
	str(&c.TrustedProxies, "trusted-proxies", "BREAKWATER_TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted")
	str(&c.Name, "name", "BREAKWATER_NAME", "Breakwater", "provider name shown to server admins")
	str(&c.ContactEmail, "contact-email", "BREAKWATER_CONTACT_EMAIL", "", "operator contact e-mail in provider_info")
	str(&c.FediverseAccount, "fediverse-account", "BREAKWATER_FEDIVERSE_ACCOUNT", "", "operator fediverse account in provider_info, e.g. @breakwater@example.social")
	str(&c.RegistrationMode, "registration-mode", "BREAKWATER_REGISTRATION_MODE", "approval", "who may register a server with the web form: open, approval (the operator approves each), invite (needs --invite-code) or closed")
	str(&c.InviteCode, "invite-code", "BREAKWATER_INVITE_CODE", "", "the code the registration form asks for in invite mode (at least 8 characters)")
	str(&c.SMTPURL, "smtp-url", "BREAKWATER_SMTP_URL", "", "SMTP server for password resets and notices, smtp://user:pass@host:587 (STARTTLS when offered) or smtps://... (TLS); empty disables e-mail")
	str(&c.SMTPFrom, "smtp-from", "BREAKWATER_SMTP_FROM", "", "sender address of e-mails, e.g. breakwater@example.org")
	str(&c.PrivacyPolicyURL, "privacy-policy-url", "BREAKWATER_PRIVACY_POLICY_URL", "", "privacy policy address in provider_info (default: the built-in /privacy page)")
	str(&c.PrivacyNoteFile, "privacy-note-file", "BREAKWATER_PRIVACY_NOTE_FILE", "", "text file whose paragraphs the built-in privacy page shows as the operator's own (controller, jurisdiction, ...)")
	str(&c.EngineMemory, "engine-memory", "BREAKWATER_ENGINE_MEMORY", "512MiB", "memory the screening engine's windows, near-duplicate indexes and campaign candidates may hold (KiB, MiB, GiB); past it the least recently seen keys are evicted and windows get shorter")
	str(&c.LogLevel, "log-level", "BREAKWATER_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "BREAKWATER_LOG_FORMAT", "text", "log format: text or json")
	str(&c.PprofListen, "pprof-listen", "BREAKWATER_PPROF_LISTEN", "", "loopback address for Go profiling endpoints (/debug/pprof), e.g. 127.0.0.1:6060; empty disables them")
	dur(&c.SignatureMaxAge, "signature-max-age", "BREAKWATER_SIGNATURE_MAX_AGE", 300*time.Second, "how far a request's created time may be in the past or future")
	dur(&c.KeyGrace, "key-grace", "BREAKWATER_KEY_GRACE", 7*24*time.Hour, "how long an old key stays valid after rotate-key")
	dur(&c.Retention, "retention", "BREAKWATER_RETENTION", 30*24*time.Hour, "how long check details are kept")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "BREAKWATER_SHUTDOWN_TIMEOUT", 30*time.Second, "how long shutdown waits for in-flight requests")
	num := func(name, env string, def float64, help string, set func(float64)) {
		set(def)
		fs.Func(name, fmt.Sprintf("%s (default %g) ($%s)", help, def, env), func(s string) error {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f < 0 {
				return errors.New("not a non-negative number")
			}
			set(f)
			return nil
		})
	}
	num("rate-limit", "BREAKWATER_RATE_LIMIT", 200, "requests per second allowed per server", func(f float64) { c.RateLimit = f })
	num("rate-burst", "BREAKWATER_RATE_BURST", 400, "burst of requests allowed per server", func(f float64) { c.RateBurst = int(f) })
	num("max-body-bytes", "BREAKWATER_MAX_BODY_BYTES", 256<<10, "largest request body accepted", func(f float64) { c.MaxBodyBytes = int64(f) })
	num("max-in-flight", "BREAKWATER_MAX_IN_FLIGHT", 256, "signed API requests served at once; beyond it callers get 429 with Retry-After", func(f float64) { c.MaxInFlight = int(f) })
	c.MXCheck = true
	fs.Func("mx-check", "look up MX records of sign-up e-mail domains: true or false (default true) ($BREAKWATER_MX_CHECK)", func(s string) error {
		b, err := strconv.ParseBool(s)
		c.MXCheck = b
		return err
	})
}

// load applies environment variables to typed flags that were not given on
// the command line, then validates everything.
func (c *config) load(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	envs := map[string]string{
		"signature-max-age": "BREAKWATER_SIGNATURE_MAX_AGE", "key-grace": "BREAKWATER_KEY_GRACE",
		"retention": "BREAKWATER_RETENTION", "shutdown-timeout": "BREAKWATER_SHUTDOWN_TIMEOUT",
		"rate-limit": "BREAKWATER_RATE_LIMIT", "rate-burst": "BREAKWATER_RATE_BURST",
		"max-body-bytes": "BREAKWATER_MAX_BODY_BYTES", "mx-check": "BREAKWATER_MX_CHECK",
		"max-in-flight": "BREAKWATER_MAX_IN_FLIGHT",
	}
	for name, env := range envs {
		if v, ok := os.LookupEnv(env); ok && !set[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("$%s: %w", env, err)
			}
		}
	}
	return c.validate()
}

func (c *config) validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen address %q: %v (want host:port)", c.Listen, err)
	}
	pub := c.PublicURL
	if pub == "" {
		pub = "http://" + c.Listen
	}
	u, err := url.Parse(strings.TrimSuffix(pub, "/"))
	switch {
	case err != nil:
		bad("public URL %q: %v", pub, err)
	case u.Scheme != "http" && u.Scheme != "https":
		bad("public URL %q must start with https:// (or http:// for local testing)", pub)
	case u.Host == "":
		bad("public URL %q has no host", pub)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		bad("public URL %q must not have a query, fragment or user", pub)
	default:
		c.publicURL = u
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("database URL must start with postgres:// (or be empty for the embedded SQLite)")
	}
	if c.DataDir == "" {
		bad("data directory must not be empty")
	}
	if c.allowRanges, err = netguard.ParseRanges(c.AllowPrivateRanges); err != nil {
		bad("allowed private ranges: %v", err)
	}
	if c.trustedProxies, err = netguard.ParseRanges(c.TrustedProxies); err != nil {
		bad("trusted proxies: %v", err)
	}
	if c.SignatureMaxAge < 10*time.Second || c.SignatureMaxAge > time.Hour {
		bad("signature max age %s must be between 10s and 1h", c.SignatureMaxAge)
	}
	if c.KeyGrace < 0 {
		bad("key grace must not be negative")
	}
	if c.Retention < time.Hour {
		bad("retention %s must be at least 1h", c.Retention)
	}
	if c.RateLimit <= 0 || c.RateBurst < 1 {
		bad("rate limit and burst must be positive")
	}
	if c.MaxInFlight < 1 {
		bad("max in flight must be at least 1")
	}
	if c.MaxBodyBytes < 1024 {
		bad("max body bytes must be at least 1024")
	}
	if n, err := parseSize(c.EngineMemory); err != nil {
		bad("engine memory %q: %v", c.EngineMemory, err)
	} else if n < 4<<20 {
		bad("engine memory %q must be at least 4MiB", c.EngineMemory)
	} else {
		c.engineMemory = n
	}
	switch c.RegistrationMode {
	case "open", "approval", "closed":
	case "invite":
		if len(c.InviteCode) < 8 {
			bad("registration mode invite needs an invite code of at least 8 characters")
		}
	default:
		bad("registration mode %q must be open, approval, invite or closed", c.RegistrationMode)
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			bad("SMTP URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
		}
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			bad("SMTP from address %q: %v", c.SMTPFrom, err)
		}
	}
	if c.PrivacyNoteFile != "" {
		b, err := os.ReadFile(c.PrivacyNoteFile)
		if err != nil {
			bad("privacy note file: %v", err)
		}
		c.privacyNote = string(b)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("%v", err)
	}
	if c.PprofListen != "" {
		if host, _, err := net.SplitHostPort(c.PprofListen); err != nil || !isLoopback(host) {
			bad("pprof listen address %q must be a loopback host:port: profiles expose internals", c.PprofListen)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log format %q must be text or json", c.LogFormat)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: invalid configuration:\n  - %s", errUsage, strings.Join(problems, "\n  - "))
	}
	return nil
}

func (c *config) sqlitePath() string { return filepath.Join(c.DataDir, "breakwater.db") }

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q must be debug, info, warn or error", s)
	}
	return l, nil
}

func (c *config) logger(w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseFlags builds a flag set for a subcommand with the shared settings.
// Flags may come before or after positional arguments; the positional ones
// are returned in order.
func parseFlags(name string, args []string, io stdio, extra func(fs *flag.FlagSet)) (*config, []string, error) {
	fs := flag.NewFlagSet("breakwater "+name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	c := &config{}
	c.bind(fs)
	if extra != nil {
		extra(fs)
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil, err
			}
			return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if err := c.load(fs); err != nil {
		return nil, nil, err
	}
	return c, pos, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseSize reads a byte size: a whole number with an optional KiB, MiB or
// GiB suffix ("512MiB"); a bare number is bytes.
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, errors.New("want a size such as 512MiB or 2GiB")
	}
	return n * mult, nil
}
