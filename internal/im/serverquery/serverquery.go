// Package serverquery answers the small queries about the server itself
// that only its domain answers, and only as a get: the software version
// (XEP-0092, internal/im/version) and the time (XEP-0202,
// internal/im/entitytime) are one such query each.
//
// A query to an account's bare JID is not the server's to answer: what
// these queries ask belongs to the user's clients, reached at their full
// JIDs, so the server answers for the account (RFC 6121 §8.5.2.1.3) with
// service-unavailable, as for a namespace it does not serve there
// (RFC 6120 §8.4).
package serverquery

import (
	"context"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Module answers gets of one payload, <name xmlns=ns/>, addressed to the
// domain.
type Module struct {
	ns, name string
	answer   func() *xmlstream.Element
	domain   jid.JID
}

// New returns the module for <name xmlns=ns/>, answered with what answer
// returns at each query; install it with Register.
func New(ns, name string, answer func() *xmlstream.Element) *Module {
	return &Module{ns: ns, name: name, answer: answer}
}

// Register installs the handler on r, for r's domain, and advertises the
// namespace as a feature.
func (m *Module) Register(r *router.Router) {
	m.domain = r.Domain()
	r.HandleIQ(m.ns, m.Handle)
	r.AddFeature(m.ns)
}

// Handle answers a get to the domain (see the package comment for any
// other address).
func (m *Module) Handle(_ context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	switch {
	case iq.To != m.domain:
		return nil, stanza.ErrServiceUnavailable
	case iq.Payload().Name != m.name:
		return nil, stanza.ErrBadRequest
	case iq.Type != "get":
		// Nobody may set what the server says of itself (RFC 6120
		// §8.3.3.10).
		return nil, stanza.ErrNotAllowed
	}
	return m.answer(), nil
}
