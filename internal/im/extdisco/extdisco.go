package extdisco

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"

	"parley/internal/clock"
	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NS is the XEP-0215 namespace.
const NS = "urn:xmpp:extdisco:2"

// DefaultCredentialTTL is how long TURN credentials last unless a
// service says otherwise (as Prosody's turn_external_ttl).
const DefaultCredentialTTL = 24 * time.Hour

// Service is one external service.
type Service struct {
	Type      string // stun, stuns, turn, turns
	Host      string
	Port      int
	Transport string // udp or tcp
	Name      string // optional label
	// Secret is the TURN REST API shared secret; empty means the service
	// needs no credentials from this server.
	Secret string
	// CredentialTTL is the credentials' lifetime; 0 means
	// DefaultCredentialTTL.
	CredentialTTL time.Duration
}

// Options are the module's configuration.
type Options struct {
	Services []Service
	// Clock is the time source of expiries; nil means the system's.
	Clock clock.Clock
}

// Module answers service and credential requests.
type Module struct {
	services []Service
	clock    clock.Clock
	domain   jid.JID
}

// New returns the module.
func New(o Options) *Module {
	return &Module{services: o.Services, clock: clock.Or(o.Clock)}
}

// Register installs the handler and advertises the feature (§5); with no
// service configured it does nothing, so the server does not claim a
// service it cannot give.
func (m *Module) Register(r *router.Router) {
	if len(m.services) == 0 {
		return
	}
	m.domain = r.Domain()
	r.HandleIQ(NS, m.Handle)
	r.AddFeature(NS)
}

// Credentials returns TURN REST API credentials for user (a bare JID)
// valid until expires.
func Credentials(secret string, user jid.JID, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user.Bare().String()
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Handle answers <services/> (§3.1, §3.2) and <credentials/> (§3.3).
func (m *Module) Handle(_ context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	q := iq.Payload()
	switch {
	case iq.To != m.domain:
		return nil, stanza.ErrServiceUnavailable
	case iq.From.Domain() != m.domain.String() || iq.From.Local() == "":
		return nil, stanza.ErrForbidden
	case iq.Type != "get":
		// Pushes (§3.2) go from the server to clients, never back.
		return nil, stanza.ErrNotAllowed
	}
	switch q.Name {
	case "services":
		typ := q.Get("type")
		res := xmlstream.New("services", NS)
		if typ != "" {
			res.Set("type", typ)
		}
		for _, s := range m.services {
			if typ == "" || s.Type == typ {
				res.Add(m.element(s, iq.From))
			}
		}
		return res, nil
	case "credentials":
		want := q.Child("service", NS)
		if want == nil || want.Get("host") == "" || want.Get("type") == "" {
			return nil, stanza.ErrBadRequest.WithText("the service needs host and type")
		}
		res := xmlstream.New("credentials", NS)
		for _, s := range m.services {
			if s.Secret == "" || s.Host != want.Get("host") || s.Type != want.Get("type") {
				continue
			}
			if p := want.Get("port"); p != "" && p != strconv.Itoa(s.Port) {
				continue
			}
			res.Add(m.element(s, iq.From))
		}
		if len(res.Children) == 0 {
			// §3.3: no service we hold credentials for.
			return nil, stanza.ErrItemNotFound
		}
		return res, nil
	}
	return nil, stanza.ErrBadRequest
}

// element describes a service to user, with fresh credentials if it has
// a secret.
func (m *Module) element(s Service, user jid.JID) *xmlstream.Element {
	el := xmlstream.New("service", NS, "type", s.Type, "host", s.Host, "port", strconv.Itoa(s.Port), "transport", s.Transport)
	if s.Name != "" {
		el.Set("name", s.Name)
	}
	if s.Secret != "" {
		ttl := s.CredentialTTL
		defaults.Positive(&ttl, DefaultCredentialTTL)
		expires := m.clock.Now().Add(ttl).UTC().Truncate(time.Second)
		name, pass := Credentials(s.Secret, user, expires)
		el.Set("username", name)
		el.Set("password", pass)
		// XEP-0082 dateTime in UTC.
		el.Set("expires", expires.Format("2006-01-02T15:04:05Z"))
		el.Set("restricted", "1")
	}
	return el
}
