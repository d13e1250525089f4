package offline

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces and features.
const (
	// Feature is the service discovery feature of XEP-0160 §5.
	Feature = "msgoffline"
	// NSDelay is XEP-0203's namespace.
	NSDelay = "urn:xmpp:delay"
	// NSHints is XEP-0334's namespace (message processing hints).
	NSHints = "urn:xmpp:hints"
	// NSChatStates is XEP-0085's namespace.
	NSChatStates = "http://jabber.org/protocol/chatstates"
)

// DefaultLimit is the number of messages kept per user when New gets 0.
const DefaultLimit = 1000

// Store is the storage offline messages need.
type Store = store.Offline

// Router is what delivery needs of the router; *router.Router has it.
type Router interface {
	DeliverTo(full jid.JID, st *stanza.Stanza) bool
	Resources(bare jid.JID) []router.Resource
}

// Module stores and delivers offline messages.
type Module struct {
	store  Store
	router Router
	domain string
	limit  int
	log    *slog.Logger
	now    func() time.Time // the clock, replaceable by tests

	mu sync.Mutex // guards delivering
	// delivering holds the usernames with a delivery in progress; true
	// asks it for another pass, for messages stored while it ran.
	delivering map[string]bool
}

var _ router.Offline = (*Module)(nil)

// New returns offline storage for a domain keeping at most limit messages
// per user (0 means DefaultLimit). Install it with Register.
func New(s Store, r Router, domain jid.JID, limit int, log *slog.Logger) *Module {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if log == nil {
		log = slog.Default()
	}
	return &Module{
		store: s, router: r, domain: domain.String(), limit: limit, log: log,
		now: time.Now, delivering: make(map[string]bool),
	}
}

// Register installs the module as the router's offline store and
// advertises XEP-0160's feature.
func (m *Module) Register(r *router.Router) {
	r.SetOffline(m)
	r.AddFeature(Feature)
}

// StoreOffline keeps a message for a user who has no available resource.
// It returns only once the message is durable, router.ErrDrop for a
// message that is not kept and not bounced, or a *stanza.Error to bounce.
func (m *Module) StoreOffline(ctx context.Context, st *stanza.Stanza) error {
	switch st.Type {
	case "", "normal", "chat":
	case "groupchat":
		return stanza.ErrServiceUnavailable // RFC 6121 §8.5.2.1.1
	default:
		return router.ErrDrop // XEP-0160 §3: headline and error are not stored
	}
	if !worthStoring(st.El) {
		return router.ErrDrop
	}
	user := st.To.Local()
	if user == "" {
		return stanza.ErrServiceUnavailable
	}
	n, err := m.store.CountOffline(ctx, user)
	if err != nil {
		return fmt.Errorf("offline: count for %s: %w", user, err)
	}
	// XEP-0160 §3: a full store bounces with service-unavailable.
	// Concurrent messages may overshoot the limit by a few; the limit
	// bounds storage, it is not an exact quota.
	if n >= m.limit {
		return stanza.ErrServiceUnavailable.WithText("offline storage for this user is full")
	}
	now := m.now().UTC()
	// XEP-0203 §3: when and by whom the message was stored; stamp in
	// XEP-0082 format with milliseconds.
	st.AddChild(xmlstream.New("delay", NSDelay, "from", m.domain, "stamp", now.Format("2006-01-02T15:04:05.000Z")))
	msg := store.OfflineMessage{Stamp: now, Stanza: slices.Clone(st.Bytes())}
	if err := m.store.StoreOffline(ctx, user, msg); err != nil {
		return fmt.Errorf("offline: store for %s: %w", user, err)
	}
	// The user may have become available while this was stored, after
	// their initial presence had already read the queue; without this
	// the message would wait for their next login.
	if full, ok := m.availableResource(st.To.Bare()); ok {
		if err := m.Deliver(ctx, full); err != nil {
			m.log.Error("offline delivery failed", "jid", full.String(), "err", err)
		}
	}
	return nil
}

// availableResource is the user's available resource with the highest
// non-negative priority, if any (RFC 6121 §8.5.2.1.1).
func (m *Module) availableResource(bare jid.JID) (jid.JID, bool) {
	var best jid.JID
	prio := int8(-1)
	for _, r := range m.router.Resources(bare) {
		if r.Available && r.Priority > prio {
			best, prio = r.Session.JID(), r.Priority
		}
	}
	return best, prio >= 0
}

// worthStoring follows XEP-0160 §3 and XEP-0334: a message with a body or
// subject is kept, one hinted <no-store/> or <no-permanent-store/> is not,
// one hinted <store/> is; otherwise it is kept only if it carries payload
// beyond chat states, ids, delays, threads and hints (XEP-0085 §5.5: chat
// states are not stored), such as receipts or encrypted payloads.
func worthStoring(el *xmlstream.Element) bool {
	hasPayload, hinted := false, false
	for _, c := range el.Children {
		switch {
		case c.Space == NSHints:
			switch c.Name {
			case "no-store", "no-permanent-store":
				return false
			case "store":
				hinted = true
			}
		case (c.Name == "body" || c.Name == "subject") && (c.Space == stanza.NSClient || c.Space == stanza.NSServer):
			hasPayload = true
		case c.Name == "thread" && (c.Space == stanza.NSClient || c.Space == stanza.NSServer):
		case c.Space == NSChatStates, c.Space == router.NSStanzaID, c.Space == NSDelay:
		default:
			hasPayload = true
		}
	}
	return hasPayload || hinted
}

// OnInitialPresence is the presence hook: a session that becomes
// available with a non-negative priority receives the stored messages
// (XEP-0160 §3; RFC 6121 §4.7.2.3: a negative priority never gets
// messages for the bare JID).
func (m *Module) OnInitialPresence(ctx context.Context, full jid.JID, priority int8) {
	if priority < 0 {
		return
	}
	if err := m.Deliver(ctx, full); err != nil {
		m.log.Error("offline delivery failed", "jid", full.String(), "err", err)
	}
}

// Deliver sends a user's stored messages, oldest first, to one session and
// then deletes those it handed over.
//
// Deliver-then-delete is at-least-once: a crash between the two, or a
// session that drops its queue before writing, loses nothing but may see a
// message twice (clients de-duplicate by stanza id). Delete-then-deliver
// would lose messages instead. Only one delivery per user runs at a time,
// as XEP-0160 delivers each message to one resource: a call while one runs
// makes the running one read the queue once more when it is done, so that
// a message stored meanwhile is not left behind.
func (m *Module) Deliver(ctx context.Context, full jid.JID) error {
	user := full.Local()
	m.mu.Lock()
	if _, busy := m.delivering[user]; busy {
		m.delivering[user] = true
		m.mu.Unlock()
		return nil
	}
	for {
		m.delivering[user] = false
		m.mu.Unlock()
		err := m.deliverOnce(ctx, full)
		m.mu.Lock()
		if err != nil || !m.delivering[user] {
			delete(m.delivering, user)
			m.mu.Unlock()
			return err
		}
	}
}

// deliverOnce hands one reading of the queue to full.
func (m *Module) deliverOnce(ctx context.Context, full jid.JID) error {
	user := full.Local()
	msgs, err := m.store.OfflineMessages(ctx, user)
	if err != nil {
		return fmt.Errorf("offline: load for %s: %w", user, err)
	}
	var done []int64
	for _, msg := range msgs {
		st, err := parse(msg.Stanza)
		if err != nil {
			// Unreadable rows would block the queue forever: drop them.
			m.log.Error("offline message unreadable, dropped", "jid", full.Bare().String(), "id", msg.ID, "err", err)
			done = append(done, msg.ID)
			continue
		}
		if !m.router.DeliverTo(full, st) {
			break // the session went away: keep the rest
		}
		done = append(done, msg.ID)
	}
	if len(done) == 0 {
		return nil
	}
	if err := m.store.DeleteOffline(ctx, user, done); err != nil {
		return fmt.Errorf("offline: delete for %s: %w", user, err)
	}
	return nil
}

func parse(raw []byte) (*stanza.Stanza, error) {
	el, err := xmlstream.ParseIn(slices.Clone(raw), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		return nil, err
	}
	return stanza.Parse(el)
}
