package config

import (
	"fmt"
	"net"
	"strings"
	"time"

	"parley/internal/jid"
)

// S2S is server-to-server federation (RFC 6120, XEP-0220, XEP-0368;
// docs/design/16_s2s.md). Its listener is [listen] s2s (default :5269),
// opened only when Mode is not off.
type S2S struct {
	// Mode is "off" (default: other domains get remote-server-not-found,
	// no listener), "allowlist" (only Allow) or "open" (all but Deny).
	Mode  string   `toml:"mode"`
	Allow []string `toml:"allow"`
	Deny  []string `toml:"deny"`
	// CA is a PEM bundle of the CAs peers' certificates must chain to;
	// empty is the system roots.
	CA string `toml:"ca"`
	// SecureAuth requires every peer's certificate to chain to CA (or
	// the system roots) and name its domain, both ways. Off (default), a
	// peer without such a certificate is authenticated by Server Dialback
	// (XEP-0220), which trusts DNS or the static route for where the
	// domain's server is.
	SecureAuth bool `toml:"secure_auth"`
	// Routes are static addresses (host:port) per remote domain, used
	// instead of DNS: `[s2s.routes] "example.org" = "10.0.0.5:5269"`;
	// "tls://10.0.0.5:5270" is TLS from the first byte (XEP-0368), as for
	// an _xmpps-server SRV target.
	Routes map[string]string `toml:"routes"`
	// MaxQueue is how many stanzas may wait for one remote domain while
	// its link comes up (default 1000); beyond it they bounce with
	// resource-constraint.
	MaxQueue int `toml:"max_queue"`
	// Timeout bounds connecting and negotiating a stream (default 30s);
	// then waiting stanzas bounce with remote-server-timeout.
	Timeout Duration `toml:"timeout"`
	// StanzaRate and StanzaBurst bound inbound stanzas per remote domain
	// (default 100/s, burst 200); beyond them the stream is closed with
	// policy-violation.
	StanzaRate  float64 `toml:"stanza_rate"`
	StanzaBurst int     `toml:"stanza_burst"`
	// PingInterval is how long an outbound link may be idle before it
	// sends a XEP-0199 ping (default 5m); PingTimeout how long the answer
	// may take before the link is closed (default: Timeout).
	PingInterval Duration `toml:"ping_interval"`
	PingTimeout  Duration `toml:"ping_timeout"`
}

// DefaultS2SListen is [listen] s2s unless configured (RFC 6120 §14.7).
const DefaultS2SListen = ":5269"

// DirectTLSPrefix marks a static route with TLS from the first byte.
const DirectTLSPrefix = "tls://"

// S2S modes.
const (
	S2SOff       = "off"
	S2SAllowlist = "allowlist"
	S2SOpen      = "open"
)

// S2SOn says whether federation is on.
func (c *Config) S2SOn() bool { return c.S2S.Mode != "" && c.S2S.Mode != S2SOff }

func (c *Config) validateS2S() []error {
	var errs []error
	s := &c.S2S
	switch s.Mode {
	case "", S2SOff, S2SAllowlist, S2SOpen:
	default:
		errs = append(errs, &KeyError{Key: "s2s.mode", Msg: fmt.Sprintf("%q is not off, allowlist or open", s.Mode)})
	}
	s2sListeners := []listener{{"listen.s2s", c.Listen.S2S}, {"listen.s2s_tls", c.Listen.S2STLS}}
	for i, sl := range s2sListeners {
		addr := sl.addr
		if addr == "" || addr == Off {
			continue
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !validPort(port) {
			errs = append(errs, &KeyError{Key: sl.key, Msg: fmt.Sprintf("%q is not a host:port or %q", addr, Off)})
			continue
		}
		if port == "0" {
			continue
		}
		norm := net.JoinHostPort(strings.ToLower(host), port)
		for _, l := range append(c.listeners(), s2sListeners[:i]...) {
			if h, p, err := net.SplitHostPort(l.addr); err == nil && net.JoinHostPort(strings.ToLower(h), p) == norm {
				errs = append(errs, &KeyError{Key: sl.key, Msg: fmt.Sprintf("%q is already used by %s", addr, l.key)})
			}
		}
	}
	domain := func(key, d string) {
		if j, err := jid.Parse(d); err != nil || !j.IsDomain() || j.String() != d {
			errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf("%q is not a domain", d)})
		}
	}
	for _, d := range s.Allow {
		domain("s2s.allow", d)
	}
	for _, d := range s.Deny {
		domain("s2s.deny", d)
	}
	for d, addr := range s.Routes {
		domain("s2s.routes", d)
		if _, port, err := net.SplitHostPort(strings.TrimPrefix(addr, DirectTLSPrefix)); err != nil || !validPort(port) || port == "0" {
			errs = append(errs, &KeyError{Key: "s2s.routes." + d, Msg: fmt.Sprintf("%q is not a host:port", addr)})
		}
	}
	if s.MaxQueue < 0 || s.StanzaRate < 0 || s.StanzaBurst < 0 || s.Timeout.Duration < 0 || s.PingInterval.Duration < 0 || s.PingTimeout.Duration < 0 {
		errs = append(errs, &KeyError{Key: "s2s", Msg: "max_queue, timeout, stanza_rate, stanza_burst, ping_interval and ping_timeout must not be negative (0 means the default)"})
	}
	if p := s.PingInterval.Duration; p > 0 && p < time.Second {
		errs = append(errs, &KeyError{Key: "s2s.ping_interval", Msg: fmt.Sprintf("%v is below 1s", p)})
	}
	return errs
}
