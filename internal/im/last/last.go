package last

import (
	"context"
	"strconv"
	"sync"
	"time"

	"parley/internal/clock"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// NS is the XEP-0012 namespace.
const NS = "jabber:iq:last"

// MaxStatus bounds the status text kept per account: a presence may be
// as large as a stanza, and one is remembered for every account that
// logged out.
const MaxStatus = 1024

// Roster tells whom an account shares its presence with; *roster.Module
// has it.
type Roster interface {
	Item(ctx context.Context, user, contact jid.JID) (store.RosterItem, bool, error)
}

// Sessions tells whether an account is online; *router.Router has it.
type Sessions interface {
	Resources(bare jid.JID) []router.Resource
}

// Options are the module's dependencies.
type Options struct {
	Roster Roster
	// Sessions defaults to the router, at Register.
	Sessions Sessions
	// Clock is the time source; nil means the system's.
	Clock clock.Clock
}

// Module answers last activity queries and records logouts.
type Module struct {
	roster   Roster
	sessions Sessions
	clock    clock.Clock
	started  time.Time
	domain   jid.JID

	mu      sync.Mutex         // guards seen and leaving
	seen    map[string]logout  // by bare JID: the last session's end
	leaving map[jid.JID]string // by full JID: status of its unavailable presence
}

type logout struct {
	at     time.Time
	status string
}

// New returns the module; the uptime counts from here.
func New(o Options) *Module {
	c := clock.Or(o.Clock)
	return &Module{roster: o.Roster, sessions: o.Sessions, clock: c, started: c.Now(),
		seen: make(map[string]logout), leaving: make(map[jid.JID]string)}
}

// Register installs the handler, advertises the feature (§6), watches
// unavailable presence for its status and session ends for their time.
func (m *Module) Register(r *router.Router) {
	m.domain = r.Domain()
	if m.sessions == nil {
		m.sessions = r
	}
	r.HandleIQ(NS, m.Handle)
	r.AddFeature(NS)
	r.InterceptOutbound(m.presence)
	r.OnSessionEnded(func(_ context.Context, e router.SessionEnded) { m.ended(e.JID) })
}

// presence remembers the status of a session's broadcast unavailable
// presence (§3: "the status message of the last unavailable presence").
func (m *Module) presence(_ context.Context, st *stanza.Stanza) error {
	if st.Kind != stanza.Presence || !st.To.IsZero() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if st.Type == "unavailable" {
		m.leaving[st.From] = xmlstream.CutText(st.El.ChildText("status", ""), MaxStatus)
	} else if st.Type == "" {
		delete(m.leaving, st.From)
	}
	return nil
}

// ended records that a session ended; the account's last activity is
// then, with the status it left with.
func (m *Module) ended(full jid.JID) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	status := m.leaving[full]
	delete(m.leaving, full)
	m.seen[full.Bare().String()] = logout{at: now, status: status}
}

// Forget drops what is known of a deleted account.
func (m *Module) Forget(bare jid.JID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, bare.Bare().String())
}

// Handle answers a last activity query to the domain or an account.
func (m *Module) Handle(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	switch {
	case iq.Payload().Name != "query":
		return nil, stanza.ErrBadRequest
	case iq.Type != "get":
		return nil, stanza.ErrNotAllowed
	case iq.To == m.domain:
		return result(m.clock.Now().Sub(m.started), ""), nil
	}
	user := iq.To
	if user.IsZero() {
		user = iq.From.Bare() // RFC 6120 §10.3.3: the own account
	}
	if user.Domain() != m.domain.String() || !user.IsBare() {
		return nil, stanza.ErrServiceUnavailable
	}
	if ok, err := m.maySee(ctx, iq.From, user); err != nil {
		return nil, err
	} else if !ok {
		return nil, stanza.ErrForbidden
	}
	for _, r := range m.sessions.Resources(user) {
		if r.Available {
			return result(0, ""), nil // §3: online
		}
	}
	m.mu.Lock()
	l, ok := m.seen[user.String()]
	m.mu.Unlock()
	if !ok {
		return nil, stanza.ErrItemNotFound.WithText("no logout recorded since the server started")
	}
	return result(m.clock.Now().Sub(l.at), l.status), nil
}

// maySee tells whether asker may see user's presence (RFC 6121 §4): it
// is the user, or the user's roster gives it a subscription from the
// user (from or both).
func (m *Module) maySee(ctx context.Context, asker, user jid.JID) (bool, error) {
	if asker.Bare() == user {
		return true, nil
	}
	it, ok, err := m.roster.Item(ctx, user, asker.Bare())
	if err != nil || !ok {
		return false, err
	}
	return it.Subscription == store.SubFrom || it.Subscription == store.SubBoth, nil
}

func result(d time.Duration, status string) *xmlstream.Element {
	q := xmlstream.NewText("query", NS, status)
	q.Set("seconds", strconv.FormatInt(int64(max(d, 0)/time.Second), 10))
	return q
}
