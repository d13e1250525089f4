package ping

import (
	"context"

	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NS is the XEP-0199 namespace.
const NS = "urn:xmpp:ping"

// Options configure the module; ping has nothing to configure.
type Options struct{}

// Module answers pings.
type Module struct{}

// New returns the module; install it with Register.
func New(Options) *Module { return &Module{} }

// Register installs the handler on r and advertises the feature
// (XEP-0199 §8).
func (*Module) Register(r *router.Router) {
	r.HandleIQ(NS, Handle)
	r.AddFeature(NS)
}

// Handle answers a ping with an empty result (XEP-0199 §4.2, §7). The
// router hands it only pings for the domain, the sender's own account or
// another existing local account, all of which the server answers.
func Handle(_ context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	switch {
	case iq.Payload().Name != "ping":
		return nil, stanza.ErrBadRequest
	case iq.Type != "get":
		// A ping is only ever a get; a set asks for an action nobody may
		// perform (RFC 6120 §8.3.3.10).
		return nil, stanza.ErrNotAllowed
	}
	return nil, nil
}
