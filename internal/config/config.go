package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Off is the listener address that disables a listener.
const Off = "off"

// Config is everything the server and the command-line tools are told by the
// operator. The zero value is not useful; start from Default or Load.
type Config struct {
	// Domain is the XMPP domain this server is authoritative for.
	Domain string `toml:"domain"`
	// Data is the directory for the SQLite database and generated keys.
	Data string `toml:"data"`
	// Store selects the backend: "" is SQLite at SQLitePath; a
	// postgres:// URL selects PostgreSQL.
	Store string `toml:"store"`
	// Cert and Key name a PEM certificate chain and key; both empty means
	// a self-signed certificate kept in the data directory.
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
	// AllowPlaintext lets clients authenticate without TLS. Validate
	// permits it only when every plaintext listener is on loopback, which
	// is the one place (tests, a local reverse proxy) it is not a leak.
	AllowPlaintext bool `toml:"allow_plaintext"`
	// TrustedProxies are addresses (IPs or CIDRs) whose X-Forwarded-For
	// or PROXY header is believed about the client's address.
	TrustedProxies []string `toml:"trusted_proxies"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`

	Listen   Listen   `toml:"listen"`
	Limits   Limits   `toml:"limits"`
	Register Register `toml:"register"`
	Archive  Archive  `toml:"archive"`
	Quotas   Quotas   `toml:"quotas"`
	MUC      MUC      `toml:"muc"`
	PubSub   PubSub   `toml:"pubsub"`
	Upload   Upload   `toml:"upload"`
	Proxy65  Proxy65  `toml:"proxy65"`
	Push     Push     `toml:"push"`   // XEP-0357; push.go
	S2S      S2S      `toml:"s2s"`    // federation; s2s.go
	Digest   Digest   `toml:"digest"` // missed-message emails; digest.go

	// Admins are the site administrators (bare JIDs of local accounts):
	// they run the service administration commands (XEP-0133). Not
	// the same as [muc] admins, which only concerns room creation.
	Admins []string `toml:"admins"`
	// ExternalServices are STUN/TURN servers announced to clients
	// (XEP-0215); see services.go.
	ExternalServices []ExternalService `toml:"external_services"`
	// Contact are the contact addresses published in service discovery
	// (XEP-0157).
	Metrics Metrics `toml:"metrics"`
	Contact Contact `toml:"contact"`
	// Audit is the audit log and its SIEM sinks; see audit.go.
	Audit Audit `toml:"audit"`
	// Abuse is abuse reports (XEP-0377) and spam controls; see abuse.go.
	Abuse Abuse `toml:"abuse"`
	// Retention is how long messages and files are kept; see retention.go.
	Retention Retention `toml:"retention"`
	// Webhooks are incoming webhooks; see webhook.go.
	Webhooks []Webhook `toml:"webhook"`
	// Components are external components (XEP-0114); see component.go.
	Components []Component `toml:"component"`
	// Barriers are information barriers; see barrier.go.
	Barriers []Barrier `toml:"barrier"`
	// Auth holds external account sources: [auth.ldap] (ldap.go) and
	// [auth.oidc] (oidc.go).
	Auth Auth `toml:"auth"`
	// DLP is data loss prevention policies; see dlp.go.
	DLP DLP `toml:"dlp"`
}

// Listen holds listener addresses as host:port, or Off.
type Listen struct {
	// C2S is client-to-server with STARTTLS (RFC 6120 §5).
	C2S string `toml:"c2s"`
	// C2STLS is client-to-server with TLS from the first byte (XEP-0368).
	C2STLS string `toml:"c2s_tls"`
	// HTTP serves WebSocket (RFC 7395) and /healthz, and /metrics only
	// with a bearer token (Metrics.Token).
	HTTP string `toml:"http"`
	// HTTPS serves WebSocket, file uploads (XEP-0363) and the admin API
	// over TLS with the c2s certificate, HTTP/2 and HSTS; plain HTTP is
	// for loopback and behind a TLS-terminating proxy.
	HTTPS string `toml:"https"`
	// Metrics serves Prometheus /metrics without authentication; keep it
	// on loopback or a private network.
	Metrics string `toml:"metrics"`
	// Proxy65 is the SOCKS5 bytestreams proxy's listener (XEP-0065,
	// [proxy65]).
	Proxy65 string `toml:"proxy65"`
	// S2S is server-to-server federation with STARTTLS (RFC 6120), served
	// only when [s2s] mode is not off.
	S2S string `toml:"s2s"`
	// S2STLS is server-to-server with TLS from the first byte (XEP-0368,
	// ALPN xmpp-server), for peers that find us through _xmpps-server SRV
	// records; off by default, served only when [s2s] mode is not off.
	S2STLS string `toml:"s2s_tls"`
	// Component is where external components connect (XEP-0114), served
	// only when a [[component]] is configured; loopback only.
	Component string `toml:"component"`
}

// Metrics controls who may read /metrics.
type Metrics struct {
	// Token, when set, also serves /metrics on the http listener to
	// requests with "Authorization: Bearer <token>".
	Token string `toml:"token"`
}

// Limits bound what one client may cost the server.
type Limits struct {
	// MaxStanza is the largest stanza in bytes. RFC 6120 §13.12 requires
	// a server to accept at least 10000.
	MaxStanza int `toml:"max_stanza"`
	// MaxDepth is the deepest element nesting inside a stanza.
	MaxDepth int `toml:"max_depth"`
	// MaxConnectionsPerIP caps concurrent connections from one address.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// AuthFailuresBeforeBackoff is how many failed authentications from
	// one address or for one account are answered at once; after that
	// each answer is delayed, doubling up to AuthBackoffMax.
	AuthFailuresBeforeBackoff int      `toml:"auth_failures_before_backoff"`
	AuthBackoffMax            Duration `toml:"auth_backoff_max"`
	// StanzaRate is the sustained stanzas per second a session may send,
	// with bursts up to StanzaBurst.
	StanzaRate  float64 `toml:"stanza_rate"`
	StanzaBurst int     `toml:"stanza_burst"`
	// OfflineMax is how many messages are kept for one offline user;
	// 0 disables offline storage.
	OfflineMax int `toml:"offline_max"`
	// OfflineBytes is the most bytes of stored messages kept for one
	// offline user; 0 means the default (32 MiB).
	OfflineBytes int64 `toml:"offline_bytes"`
	// IdleTimeout closes a connection that sent nothing for this long.
	IdleTimeout Duration `toml:"idle_timeout"`
	// Keepalive is how long the server goes without writing to a client
	// before it sends a whitespace keepalive; it must be shorter than
	// IdleTimeout. (A client silent for IdleTimeout/2 is pinged.)
	Keepalive Duration `toml:"keepalive"`
	// AuthTimeout closes a connection not authenticated within it.
	AuthTimeout Duration `toml:"auth_timeout"`
	// HTTPIdleTimeout closes an HTTP keep-alive connection that waits
	// this long for its next request.
	HTTPIdleTimeout Duration `toml:"http_idle_timeout"`
	// ResumeTimeout is how long a session with stream management
	// (XEP-0198) resumption survives a lost connection.
	ResumeTimeout Duration `toml:"resume_timeout"`
	// FastTokenLifetime is how long a XEP-0484 FAST token is valid; one
	// used in the second half of its life is replaced.
	FastTokenLifetime Duration `toml:"fast_token_lifetime"`
	// MaxQueue is the bytes waiting to be written to (or acknowledged by)
	// one client beyond which its senders are paced; twice it
	// disconnects the client.
	MaxQueue int `toml:"max_queue"`
	// SlowTimeout disconnects a client that stays over MaxQueue this long.
	SlowTimeout Duration `toml:"slow_timeout"`
	// CSIContacts bounds the contacts whose presence a session that
	// declared itself inactive (XEP-0352) holds; one more flushes all.
	CSIContacts int `toml:"csi_contacts"`
}

// Register controls in-band registration (XEP-0077).
type Register struct {
	Enabled bool `toml:"enabled"`
}

// Archive controls message archiving (XEP-0313).
type Archive struct {
	// Default is what is archived for users who set no preferences
	// (XEP-0441): "always", "roster" (only contacts on the roster) or
	// "never". Users change their own with their client.
	Default string `toml:"default"`
	// Required is compliance mode: a message is delivered only once the
	// archive holds it; one that cannot be archived bounces to its
	// sender with resource-constraint and reaches nobody. Preferences
	// cannot turn archiving off (docs/design/06).
	Required bool `toml:"required"`
	// What one archive query may cost (docs/SECURITY.md; validated in
	// archive.go); zero means mam's default. The longest full-text search
	// in bytes (1024) and words (16), beyond which a query is refused
	// with policy-violation, and how long a query may take in the store
	// (10s), beyond which the requester gets resource-constraint.
	SearchBytes  int      `toml:"search_max_bytes"`
	SearchWords  int      `toml:"search_max_words"`
	QueryTimeout Duration `toml:"query_timeout"`
}

// Duration is a time.Duration written in TOML as a string such as "5m".
// It embeds time.Duration so callers use d.Duration or its methods.
type Duration struct {
	time.Duration
}

// UnmarshalText parses Go duration syntax ("90s", "5m", "1h30m").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30s\" or \"5m\"", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as UnmarshalText reads it.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// Default returns the built-in configuration: a server for "localhost"
// with data in ./data and a self-signed certificate.
func Default() Config {
	return Config{
		Domain:   "localhost",
		Data:     "./data",
		LogLevel: "info",
		Listen: Listen{
			C2S:    ":5222",
			C2STLS: ":5223",
			HTTP:   ":5280",
			HTTPS:  ":5281",
			// Metrics tell about users' activity: loopback by default.
			Metrics:   "127.0.0.1:5282",
			Proxy65:   DefaultProxy65Listen,
			Component: DefaultComponentListen,
			S2S:       DefaultS2SListen,
			S2STLS:    Off,
		},
		Upload:  Upload{Enabled: true},
		Archive: Archive{Default: "always"},
		MUC:     MUC{Create: MUCCreateLocal},
		S2S:     S2S{Mode: S2SOff},
		PubSub:  PubSub{Create: PubSubCreateLocal},
		Limits: Limits{
			MaxStanza:                 256 << 10,
			MaxDepth:                  32,
			MaxConnectionsPerIP:       100,
			AuthFailuresBeforeBackoff: 3,
			AuthBackoffMax:            Duration{30 * time.Second},
			StanzaRate:                500,
			StanzaBurst:               1000,
			OfflineMax:                1000,
			OfflineBytes:              32 << 20,
			IdleTimeout:               Duration{5 * time.Minute},
			Keepalive:                 Duration{60 * time.Second},
			AuthTimeout:               Duration{60 * time.Second},
			HTTPIdleTimeout:           Duration{60 * time.Second},
			ResumeTimeout:             Duration{5 * time.Minute},
			FastTokenLifetime:         Duration{14 * 24 * time.Hour},
			MaxQueue:                  4 << 20,
			SlowTimeout:               Duration{time.Minute},
			CSIContacts:               256,
		},
	}
}

// Environment variables read by Load, applied after the file.
const (
	EnvConfig   = "PARLEY_CONFIG" // default for --config (FromArgs only)
	EnvData     = "PARLEY_DATA"
	EnvDomain   = "PARLEY_DOMAIN"
	EnvStore    = "PARLEY_STORE"
	EnvLogLevel = "PARLEY_LOG_LEVEL"
)

// Load returns the defaults overlaid with the TOML file at path (none when
// path is "") and then with the PARLEY_* environment. A named file that does
// not exist is an error: a typo in --config must not start a server on
// defaults. Load does not validate; call Validate.
func Load(path string) (Config, error) {
	return load(path, os.Getenv)
}

func load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return Config{}, fmt.Errorf("config: %s does not exist", path)
			}
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := decode(path, b, &c); err != nil {
			return Config{}, err
		}
	}
	for env, dst := range map[string]*string{
		EnvData:     &c.Data,
		EnvDomain:   &c.Domain,
		EnvStore:    &c.Store,
		EnvLogLevel: &c.LogLevel,
	} {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}
	return c, nil
}

// decode reads TOML into c, which already holds the defaults, so keys the
// file leaves out keep their default values.
func decode(path string, b []byte, c *Config) error {
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	err := dec.Decode(c)
	if err == nil {
		return nil
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			de := &strict.Errors[i]
			row, _ := de.Position()
			errs = append(errs, &FileError{Path: path, Line: row,
				Key: strings.Join(de.Key(), "."), Msg: "unknown key"})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return &FileError{Path: path, Line: row, Key: strings.Join(de.Key(), "."),
			Msg: strings.TrimPrefix(de.Error(), "toml: ")}
	}
	return &FileError{Path: path, Msg: err.Error()}
}

// FileError is a problem in a configuration file at a line.
type FileError struct {
	Path string
	Line int    // 0 when unknown
	Key  string // dotted key, "" when unknown
	Msg  string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// SQLitePath is where the embedded database lives when Store is "".
func (c Config) SQLitePath() string {
	return filepath.Join(c.Data, "parley.db")
}

// SlogLevel maps LogLevel to a slog level; an unknown name (which Validate
// rejects) reads as info.
func (c Config) SlogLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// TrustedProxyPrefixes returns TrustedProxies as prefixes (a bare IP is a
// single-address prefix), skipping entries Validate rejects.
func (c Config) TrustedProxyPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for _, s := range c.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
