package entitytime

import (
	"context"

	"parley/internal/clock"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NS is the XEP-0202 namespace.
const NS = "urn:xmpp:time"

// Options are the module's dependencies.
type Options struct {
	// Clock is the time source; nil means the system's. Its times'
	// location gives the offset.
	Clock clock.Clock
}

// Module answers time queries.
type Module struct {
	clock  clock.Clock
	domain jid.JID
}

// New returns the module.
func New(o Options) *Module { return &Module{clock: clock.Or(o.Clock)} }

// Register installs the handler and advertises the feature (§5).
func (m *Module) Register(r *router.Router) {
	m.domain = r.Domain()
	r.HandleIQ(NS, m.Handle)
	r.AddFeature(NS)
}

// Handle answers a time query to the domain (§3).
func (m *Module) Handle(_ context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	switch {
	case iq.To != m.domain:
		return nil, stanza.ErrServiceUnavailable
	case iq.Payload().Name != "time":
		return nil, stanza.ErrBadRequest
	case iq.Type != "get":
		return nil, stanza.ErrNotAllowed
	}
	now := m.clock.Now()
	return xmlstream.New("time", NS).Add(
		// §3: tzo is ±hh:mm (XEP-0082 TZD), utc a UTC dateTime.
		xmlstream.NewText("tzo", NS, now.Format("-07:00")),
		xmlstream.NewText("utc", NS, now.UTC().Format("2006-01-02T15:04:05Z")),
	), nil
}
