package carbons

import (
	"context"
	"sync"

	"parley/internal/im/hints"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces.
const (
	NS        = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
	NSMUCUser = "http://jabber.org/protocol/muc#user"
)

// Router is what carbons need of the router; *router.Router has it.
type Router interface {
	Lookup(full jid.JID) (router.Resource, bool)
	DeliverTo(full jid.JID, st *stanza.Stanza) bool
}

// Options configure the module; carbons need nothing but the router.
type Options struct{}

// Module tracks which sessions enabled carbons and sends the copies.
type Module struct {
	router Router // set by Register

	mu sync.Mutex // guards enabled
	// enabled holds, per bare JID, the sessions that enabled carbons; a
	// session leaves it when it ends (router.SessionEnded).
	enabled map[jid.JID]map[router.Session]bool
}

var _ router.MessageObserver = (*Module)(nil)

// New returns the module; install it with Register.
func New(Options) *Module {
	return &Module{enabled: make(map[jid.JID]map[router.Session]bool)}
}

// Register installs the IQ handler, the observer and the session-end
// subscription and advertises the feature on the server (XEP-0280 §3).
func (m *Module) Register(r *router.Router) {
	m.router = r
	r.HandleIQ(NS, m.HandleIQ)
	r.ObserveMessages(m)
	r.OnSessionEnded(m.sessionEnded)
	r.AddFeature(NS)
}

// sessionEnded forgets a session that had carbons enabled.
func (m *Module) sessionEnded(_ context.Context, e router.SessionEnded) {
	bare := e.JID.Bare()
	m.mu.Lock()
	defer m.mu.Unlock()
	if set := m.enabled[bare]; set != nil {
		delete(set, e.Last.Session)
		if len(set) == 0 {
			delete(m.enabled, bare)
		}
	}
}

// HandleIQ enables or disables carbons for the requesting session
// (XEP-0280 §4-5).
func (m *Module) HandleIQ(_ context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	if !iq.To.IsZero() && iq.To != iq.From.Bare() {
		return nil, stanza.ErrForbidden
	}
	p := iq.Payload()
	if iq.Type != "set" || (p.Name != "enable" && p.Name != "disable") {
		return nil, stanza.ErrBadRequest.WithText("expected <enable/> or <disable/> in an iq set")
	}
	res, ok := m.router.Lookup(iq.From)
	if !ok {
		return nil, stanza.ErrItemNotFound
	}
	bare := iq.From.Bare()
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.enabled[bare]
	if p.Name == "enable" {
		if set == nil {
			set = make(map[router.Session]bool)
			m.enabled[bare] = set
		}
		set[res.Session] = true
		return nil, nil
	}
	delete(set, res.Session)
	if len(set) == 0 {
		delete(m.enabled, bare)
	}
	return nil, nil
}

// Enabled reports whether the session bound to full has carbons enabled.
func (m *Module) Enabled(full jid.JID) bool {
	res, ok := m.router.Lookup(full)
	if !ok {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.enabled[full.Bare()][res.Session]
}

// Outgoing sends <sent/> copies of a message a user sends to the user's
// other enabled sessions (XEP-0280 §7).
func (m *Module) Outgoing(_ context.Context, st *stanza.Stanza) router.Write {
	if eligible(st) {
		m.copyTo(st.From.Bare(), "sent", st, func(full jid.JID) bool {
			return full != st.From && full != st.To
		})
	}
	return nil
}

// Incoming sends <received/> copies of a message for a user to the user's
// enabled sessions that it was not delivered to (XEP-0280 §6).
func (m *Module) Incoming(_ context.Context, st *stanza.Stanza, to []router.Session) router.Write {
	// A message between one's own sessions was copied as <sent/>.
	if !eligible(st) || st.From.Bare() == st.To.Bare() {
		return nil
	}
	m.copyTo(st.To.Bare(), "received", st, func(full jid.JID) bool {
		for _, s := range to {
			if s.JID() == full {
				return false
			}
		}
		return true
	})
	return nil
}

// copyTo wraps st in <dir><forwarded/></dir> and delivers it to every
// enabled session of user for which want is true.
func (m *Module) copyTo(user jid.JID, dir string, st *stanza.Stanza, want func(jid.JID) bool) {
	sessions := m.enabledSessions(user)
	var wrapped *stanza.Stanza
	for _, s := range sessions {
		full := s.JID()
		if !want(full) {
			continue
		}
		if wrapped == nil {
			wrapped = wrap(user, dir, st)
		}
		c := wrapped.Copy()
		c.SetTo(full)
		m.router.DeliverTo(full, c)
	}
}

// enabledSessions returns the user's sessions with carbons enabled.
func (m *Module) enabledSessions(user jid.JID) []router.Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.enabled[user]
	if len(set) == 0 {
		return nil
	}
	out := make([]router.Session, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}

// wrap builds <message from=user type=st.Type><dir xmlns=carbons>
// <forwarded><message xmlns='jabber:client' .../></forwarded></dir>
// </message>; the original's bytes are copied as they are.
func wrap(user jid.JID, dir string, st *stanza.Stanza) *stanza.Stanza {
	typ := st.Type
	if typ == "normal" {
		typ = ""
	}
	c := stanza.New(stanza.Message, user, user, typ, "")
	inner := &xmlstream.Element{Name: "message", Space: stanza.NSClient, Raw: st.Bytes()}
	c.El.Add(xmlstream.New(dir, NS).Add(xmlstream.New("forwarded", NSForward).Add(inner)))
	return c
}

// eligible applies XEP-0280 §6's rules: chat messages, and normal ones
// that carry a body or a payload other devices need to stay in step
// (receipts, markers, reactions, retractions, corrections); never when
// the sender marked it <private/> or hinted <no-copy/> (XEP-0334), never
// a carbon itself, nor groupchat, headline or error messages.
func eligible(st *stanza.Stanza) bool {
	if st.Kind != stanza.Message || st.To.IsZero() {
		return false
	}
	chat := st.Type == "chat"
	if !chat && st.Type != "" && st.Type != "normal" {
		return false
	}
	content := false
	for _, c := range st.El.Children {
		switch {
		case c.Space == NS: // <private/>, or a carbon itself
			return false
		case c.Space == hints.NS && c.Name == "no-copy":
			return false
		case c.Space == NSMUCUser && !chat:
			return false // MUC invitations and room notices
		case c.Name == "body" && (c.Space == stanza.NSClient || c.Space == stanza.NSServer),
			c.Space == "urn:xmpp:receipts", c.Space == "urn:xmpp:chat-markers:0",
			c.Space == "urn:xmpp:reactions:0", c.Space == "urn:xmpp:message-retract:1",
			c.Space == "urn:xmpp:fasten:0", c.Space == "urn:xmpp:message-correct:0":
			content = true
		}
	}
	return chat || content
}
