package version

import (
	"context"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NS is the XEP-0092 namespace.
const NS = "jabber:iq:version"

// Name is the software name the server reports.
const Name = "parley"

// Module answers for one domain with one build version.
type Module struct {
	domain  jid.JID
	version string
}

// Options configure the module.
type Options struct {
	// Version is the build version (e.g. from debug.ReadBuildInfo or
	// -ldflags), reported as given.
	Version string
}

// New returns the module; install it with Register.
func New(o Options) *Module { return &Module{version: o.Version} }

// Register installs the handler on r, for r's domain, and advertises the
// feature (XEP-0092 §4).
func (m *Module) Register(r *router.Router) {
	m.domain = r.Domain()
	r.HandleIQ(NS, m.Handle)
	r.AddFeature(NS)
}

// Handle answers a version get to the domain (XEP-0092 §2). A query to an
// account's bare JID is not the server's to answer: software versions
// belong to the user's clients, reached at their full JIDs, so the server
// answers for the account (RFC 6121 §8.5.2.1.3) with service-unavailable,
// as for a namespace it does not serve there (RFC 6120 §8.4).
func (m *Module) Handle(_ context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	switch {
	case iq.To != m.domain:
		return nil, stanza.ErrServiceUnavailable
	case iq.Payload().Name != "query":
		return nil, stanza.ErrBadRequest
	case iq.Type != "get":
		// Nobody may set the server's version (RFC 6120 §8.3.3.10).
		return nil, stanza.ErrNotAllowed
	}
	// No <os/>: see the package comment.
	return xmlstream.New("query", NS).Add(
		xmlstream.NewText("name", NS, Name),
		xmlstream.NewText("version", NS, m.version),
	), nil
}
