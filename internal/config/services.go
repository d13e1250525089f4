package config

import (
	"fmt"
	"net/url"
	"strings"

	"parley/internal/jid"
)

// ExternalService is a STUN or TURN server announced to clients with
// XEP-0215 external service discovery (one [[external_services]] table).
type ExternalService struct {
	// Type is stun, stuns, turn or turns.
	Type string `toml:"type"`
	// Host is the service's domain name or IP address.
	Host string `toml:"host"`
	// Port is the service's port (1-65535).
	Port int `toml:"port"`
	// Transport is udp or tcp; empty means udp for stun and turn and tcp
	// for stuns and turns.
	Transport string `toml:"transport"`
	// Name is a label clients may show; optional.
	Name string `toml:"name"`
	// Secret is the TURN REST API shared secret (coturn's
	// static-auth-secret with use-auth-secret); with it clients get
	// time-limited credentials. Only for turn and turns; empty means
	// none are given.
	Secret string `toml:"secret"`
	// CredentialTTL is how long those credentials last; 0 means 24h.
	CredentialTTL Duration `toml:"credential_ttl"`
}

// DefaultTransport returns the transport of a service whose Transport is
// empty.
func (e ExternalService) DefaultTransport() string {
	if e.Transport != "" {
		return e.Transport
	}
	if strings.HasSuffix(e.Type, "s") {
		return "tcp"
	}
	return "udp"
}

func validateExternalServices(svcs []ExternalService) []error {
	var errs []error
	for i, s := range svcs {
		bad := func(key, format string, args ...any) {
			errs = append(errs, &KeyError{Key: fmt.Sprintf("external_services[%d].%s", i, key), Msg: fmt.Sprintf(format, args...)})
		}
		switch s.Type {
		case "stun", "stuns", "turn", "turns":
		default:
			bad("type", "%q is not stun, stuns, turn or turns", s.Type)
		}
		if s.Host == "" || strings.ContainsAny(s.Host, " /'\"<>&") {
			bad("host", "%q is not a host name or IP address", s.Host)
		}
		if s.Port < 1 || s.Port > 65535 {
			bad("port", "%d is not a port (1-65535)", s.Port)
		}
		switch s.Transport {
		case "", "udp", "tcp":
		default:
			bad("transport", "%q is not udp or tcp", s.Transport)
		}
		if s.Secret != "" && !strings.HasPrefix(s.Type, "turn") {
			bad("secret", "credentials are given for turn and turns only")
		}
		notNegative(&errs, fmt.Sprintf("external_services[%d].credential_ttl", i), s.CredentialTTL.Duration)
	}
	return errs
}

// Contact holds the server's contact addresses (XEP-0157), each a list of
// URIs (mailto:, xmpp:, https:), published in its service discovery.
type Contact struct {
	Abuse    []string `toml:"abuse"`
	Admin    []string `toml:"admin"`
	Feedback []string `toml:"feedback"`
	Sales    []string `toml:"sales"`
	Security []string `toml:"security"`
	Support  []string `toml:"support"`
}

func (c *Contact) validate() []error {
	var errs []error
	for _, a := range c.Addresses() {
		key, uris := a.Kind, a.URIs
		for _, u := range uris {
			if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Opaque == "" && p.Host == "" {
				errs = append(errs, &KeyError{Key: "contact." + key, Msg: fmt.Sprintf("%q is not a URI such as mailto:abuse@example.com or xmpp:admin@example.com", u)})
			}
		}
	}
	return errs
}

// ContactAddresses are the URIs of one kind of contact.
type ContactAddresses struct {
	Kind string // abuse, admin, feedback, sales, security or support
	URIs []string
}

// Addresses lists every kind, in alphabetical order, with its URIs.
func (c *Contact) Addresses() []ContactAddresses {
	return []ContactAddresses{{"abuse", c.Abuse}, {"admin", c.Admin}, {"feedback", c.Feedback},
		{"sales", c.Sales}, {"security", c.Security}, {"support", c.Support}}
}

// validateAdmins checks that every site admin is an account of this
// server: only local users run commands at the domain.
func (c *Config) validateAdmins() []error {
	var errs []error
	for i, a := range c.Admins {
		if j, err := jid.Parse(a); err != nil || !j.IsBare() || j.Local() == "" || j.Domain() != c.Domain {
			errs = append(errs, &KeyError{Key: fmt.Sprintf("admins[%d]", i), Msg: fmt.Sprintf("%q is not the bare JID of an account on %s (user@%s)", a, c.Domain, c.Domain)})
		}
	}
	return errs
}
