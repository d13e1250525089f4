package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"parley/internal/jid"
)

// KeyError is one invalid setting, named by its dotted TOML key.
type KeyError struct {
	Key string
	Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

// notNegative appends to errs the problem of a setting whose zero means
// the default, when v is below zero.
func notNegative[T ~int | ~int64](errs *[]error, key string, v T) {
	if v < 0 {
		*errs = append(*errs, &KeyError{Key: key, Msg: fmt.Sprintf("%v is negative (0 means the default)", v)})
	}
}

// minMaxStanza is RFC 6120 §13.12's floor: a server must accept stanzas of
// at least 10000 bytes, so a smaller limit breaks interoperability.
const minMaxStanza = 10000

// Validate reports every problem in c, joined with errors.Join; each is a
// *KeyError naming the key. A nil result means the server can start on c.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if c.Domain == "" {
		bad("domain", "must not be empty")
	} else if j, err := jid.Parse(c.Domain); err != nil || !j.IsDomain() {
		bad("domain", "%q is not a valid XMPP domain", c.Domain)
	} else if j.String() != c.Domain {
		// Stored JIDs and routing compare normalised forms; a domain in
		// any other form would never match an incoming address.
		bad("domain", "%q is not in canonical form; write %q", c.Domain, j.String())
	}
	if c.Data == "" {
		bad("data", "must not be empty")
	}
	if msg := checkStore(c.Store); msg != "" {
		bad("store", "%s", msg)
	}
	if (c.Cert == "") != (c.Key == "") {
		bad("cert", "cert and key must be given together (cert=%q, key=%q)", c.Cert, c.Key)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	for i, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR", p)
		}
	}

	switch c.Archive.Default {
	case "always", "roster", "never":
	default:
		bad("archive.default", "%q is not always, roster or never", c.Archive.Default)
	}

	errs = append(errs, c.validateListen()...)
	errs = append(errs, c.Limits.validate()...)
	errs = append(errs, c.Quotas.validate()...)
	errs = append(errs, c.Archive.validateLimits()...)
	errs = append(errs, c.MUC.validate()...)
	errs = append(errs, c.PubSub.validate()...)
	errs = append(errs, c.Upload.validate()...)
	errs = append(errs, c.validateProxy65()...)
	errs = append(errs, c.validateS2S()...)
	errs = append(errs, c.Push.validate()...)
	errs = append(errs, c.Digest.validate()...)
	errs = append(errs, validateBarriers(c.Barriers, c.Domain)...)
	errs = append(errs, validateComponents(c.Components, c.Domain, c.Listen.Component)...)
	errs = append(errs, validateWebhooks(c.Webhooks, c.Domain)...)
	errs = append(errs, c.Abuse.validate(c.Domain)...)
	errs = append(errs, c.DLP.validate()...)
	errs = append(errs, validateExternalServices(c.ExternalServices)...)
	errs = append(errs, c.validateAdmins()...)
	errs = append(errs, c.Contact.validate()...)
	errs = append(errs, c.Audit.validate()...)
	errs = append(errs, c.Retention.validate(c.Domain)...)
	errs = append(errs, c.Auth.LDAP.validate()...)
	errs = append(errs, c.Auth.OIDC.validate()...)
	return errors.Join(errs...)
}

func checkStore(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		// The URL may hold a password: do not echo it.
		return "is neither empty (SQLite in the data directory) nor a postgres://host/db URL"
	}
	return ""
}

type listener struct{ key, addr string }

func (c *Config) listeners() []listener {
	return []listener{
		{"listen.c2s", c.Listen.C2S},
		{"listen.c2s_tls", c.Listen.C2STLS},
		{"listen.http", c.Listen.HTTP},
		{"listen.https", c.Listen.HTTPS},
		{"listen.metrics", c.Listen.Metrics},
	}
}

func (c *Config) validateListen() []error {
	var errs []error
	seen := map[string]string{} // normalised address -> key that holds it
	enabled := 0
	for _, l := range c.listeners() {
		// An empty address (a Listen built in code that leaves a field
		// out) is off, as the server treats it.
		if l.addr == Off || l.addr == "" {
			continue
		}
		if l.key != "listen.metrics" {
			enabled++
		}
		host, port, err := net.SplitHostPort(l.addr)
		if err != nil || !validPort(port) {
			errs = append(errs, &KeyError{Key: l.key,
				Msg: fmt.Sprintf("%q is not a host:port or %q", l.addr, Off)})
			continue
		}
		// Port 0 asks the kernel for a free port, so two of them never clash.
		if port != "0" {
			norm := net.JoinHostPort(strings.ToLower(host), port)
			if other, dup := seen[norm]; dup {
				errs = append(errs, &KeyError{Key: l.key,
					Msg: fmt.Sprintf("%q is already used by %s", l.addr, other)})
			}
			seen[norm] = l.key
		}
		// Direct TLS is encrypted whatever allow_plaintext says; only the
		// listeners that may carry plaintext need loopback.
		if c.AllowPlaintext && l.key != "listen.c2s_tls" && l.key != "listen.https" && l.key != "listen.metrics" && !IsLoopback(l.addr) {
			errs = append(errs, &KeyError{Key: "allow_plaintext",
				Msg: fmt.Sprintf("is true but %s %q is not a loopback address (127.0.0.0/8, ::1 or localhost)", l.key, l.addr)})
		}
	}
	if enabled == 0 {
		errs = append(errs, &KeyError{Key: "listen", Msg: "every listener is off"})
	}
	return errs
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && p == strconv.Itoa(n)
}

// IsLoopback reports whether an address (host:port, or a bare host, as a
// listen address or a URL's host gives it) is loopback only. An empty host binds every interface and is
// therefore not loopback; so is a name other than "localhost", since only
// the resolver knows what it means.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func (l *Limits) validate() []error {
	var errs []error
	atLeast := func(key string, v, min int) {
		if v < min {
			errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf("%d is below the minimum %d", v, min)})
		}
	}
	positive := func(key string, d Duration) {
		if d.Duration <= 0 {
			errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf("%s must be positive", d.Duration)})
		}
	}
	atLeast("limits.max_stanza", l.MaxStanza, minMaxStanza)
	// The stream is depth 1 and the stanza depth 2; anything lower could
	// not carry a message body.
	atLeast("limits.max_depth", l.MaxDepth, 4)
	atLeast("limits.max_connections_per_ip", l.MaxConnectionsPerIP, 1)
	atLeast("limits.auth_failures_before_backoff", l.AuthFailuresBeforeBackoff, 1)
	atLeast("limits.stanza_burst", l.StanzaBurst, 1)
	atLeast("limits.csi_contacts", l.CSIContacts, 1)
	atLeast("limits.offline_max", l.OfflineMax, 0)
	if l.OfflineBytes < 0 {
		errs = append(errs, &KeyError{Key: "limits.offline_bytes", Msg: fmt.Sprintf("%d must not be negative", l.OfflineBytes)})
	}
	if l.StanzaRate <= 0 {
		errs = append(errs, &KeyError{Key: "limits.stanza_rate", Msg: fmt.Sprintf("%g must be positive", l.StanzaRate)})
	}
	positive("limits.auth_backoff_max", l.AuthBackoffMax)
	positive("limits.idle_timeout", l.IdleTimeout)
	positive("limits.keepalive", l.Keepalive)
	positive("limits.auth_timeout", l.AuthTimeout)
	positive("limits.http_idle_timeout", l.HTTPIdleTimeout)
	positive("limits.resume_timeout", l.ResumeTimeout)
	positive("limits.fast_token_lifetime", l.FastTokenLifetime)
	positive("limits.slow_timeout", l.SlowTimeout)
	// A queue must hold at least one stanza of the largest size.
	atLeast("limits.max_queue", l.MaxQueue, max(l.MaxStanza, minMaxStanza))
	if l.Keepalive.Duration > 0 && l.IdleTimeout.Duration > 0 && l.Keepalive.Duration >= l.IdleTimeout.Duration {
		errs = append(errs, &KeyError{Key: "limits.keepalive",
			Msg: fmt.Sprintf("%s must be shorter than limits.idle_timeout %s, or live clients are cut off", l.Keepalive.Duration, l.IdleTimeout.Duration)})
	}
	return errs
}
