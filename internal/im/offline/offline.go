package offline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"parley/internal/defaults"
	"parley/internal/im/hints"
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
	// NSChatStates is XEP-0085's namespace.
	NSChatStates = "http://jabber.org/protocol/chatstates"
)

// Defaults for zero Options.
const (
	// DefaultLimit is the number of messages kept per user.
	DefaultLimit = 1000
	// DefaultMaxBytes is the bytes of stored stanzas kept per user
	// (issue 10 item 8: a count alone let 1000 × 256 KiB = 256 MB wait
	// for one user).
	DefaultMaxBytes = 32 << 20
	// DefaultBatchBytes bounds the stored messages one delivery hands to a
	// session before it waits for them to reach the client: a quarter of
	// a session's default 4 MiB outbound queue, so that a backlog never
	// overflows it (a single larger message is sent alone).
	DefaultBatchBytes = 1 << 20
)

// Store is the storage offline messages need.
type Store = store.Offline

// Router is what delivery needs of the router; *router.Router has it.
type Router interface {
	DeliverTracked(full jid.JID, st *stanza.Stanza, done func(delivered bool)) bool
	Reply(ctx context.Context, st *stanza.Stanza)
	Resources(bare jid.JID) []router.Resource
	Domain() jid.JID
}

// Options configure the module; zero limits mean the defaults above.
type Options struct {
	Store Store
	// Limit is the most messages kept per user.
	Limit int
	// MaxBytes is the most bytes of stored stanzas kept per user.
	MaxBytes int64
	// BatchBytes bounds one delivery batch (DefaultBatchBytes); keep it
	// well below the sessions' outbound queue bound.
	BatchBytes int
	// Disabled stores nothing: a message for a user without an available
	// resource bounces with service-unavailable (RFC 6121 §8.5.2.1.1, the
	// server's other choice than storing it), and msgoffline is not
	// advertised. Messages stored before are still delivered.
	Disabled bool
	Log      *slog.Logger
}

// Module stores and delivers offline messages.
type Module struct {
	store      Store
	router     Router // set by Register
	domain     string
	limit      int
	maxBytes   int64
	batchBytes int
	disabled   bool
	log        *slog.Logger
	now        func() time.Time // the clock, replaceable by tests

	mu sync.Mutex // guards delivering
	// delivering holds the users with a delivery goroutine running: one
	// per user, as XEP-0160 delivers each message to one resource.
	delivering map[string]*delivery
	wg         sync.WaitGroup // one per delivery goroutine
}

// delivery is a user's running delivery; guarded by Module.mu.
type delivery struct {
	full  jid.JID // the session to deliver to (the latest asked for)
	again bool    // read the queue once more when done
}

var _ router.Offline = (*Module)(nil)

// New returns offline storage; install it with Register.
func New(o Options) *Module {
	defaults.Positive(&o.Limit, DefaultLimit)
	defaults.Positive(&o.MaxBytes, DefaultMaxBytes)
	defaults.Positive(&o.BatchBytes, DefaultBatchBytes)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Module{
		store: o.Store, limit: o.Limit, maxBytes: o.MaxBytes, batchBytes: o.BatchBytes, disabled: o.Disabled, log: o.Log,
		now: time.Now, delivering: make(map[string]*delivery),
	}
}

// Register installs the module as the router's offline store and
// advertises XEP-0160's feature.
func (m *Module) Register(r *router.Router) {
	m.use(r)
	r.SetOffline(m)
	if !m.disabled {
		r.AddFeature(Feature)
	}
}

func (m *Module) use(r Router) {
	m.router = r
	m.domain = r.Domain().String()
}

// Close waits for the deliveries in progress; each ends once its messages
// reached the client or its session ended.
func (m *Module) Close() { m.wg.Wait() }

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
	if m.disabled {
		return errDisabled
	}
	user := st.To.Local()
	if user == "" {
		return stanza.ErrServiceUnavailable
	}
	n, size, err := m.store.OfflineUsage(ctx, user)
	if err != nil {
		return storeFailed(fmt.Errorf("offline: usage of %s: %w", user, err))
	}
	// XEP-0160 §3: a full store bounces with service-unavailable, by
	// count and by bytes (the delay added below is under 128 bytes).
	// Concurrent messages may overshoot a little; the quotas bound
	// storage, they are not exact.
	if n >= m.limit || size+int64(len(st.Bytes())+128) > m.maxBytes {
		return errFull
	}
	now := m.now().UTC()
	// XEP-0203 §3: when and by whom the message was stored; stamp in
	// XEP-0082 format with milliseconds.
	st.AddChild(xmlstream.New("delay", NSDelay, "from", m.domain, "stamp", now.Format("2006-01-02T15:04:05.000Z")))
	msg := store.OfflineMessage{Stamp: now, Stanza: slices.Clone(st.Bytes())}
	if err := m.store.StoreOffline(ctx, user, msg); err != nil {
		return storeFailed(fmt.Errorf("offline: store for %s: %w", user, err))
	}
	// The user may have become available while this was stored, after
	// their initial presence had already read the queue; without this
	// the message would wait for their next login.
	if full, ok := m.availableResource(st.To.Bare()); ok {
		m.Deliver(full)
	}
	return nil
}

// Requeue takes the stanzas a session's client never acknowledged
// (XEP-0198) when the session ends for good: messages are stored for the
// user's next login (XEP-0198 §5: the server should not lose them), an
// IQ request is answered service-unavailable as for a session that is
// gone (RFC 6121 §8.5.3.1), and a message that cannot be stored bounces
// with the reason; presence and IQ responses are dropped, as for any
// client that went away. c2s calls it (Config.OnUnacked).
func (m *Module) Requeue(ctx context.Context, full jid.JID, unacked [][]byte) {
	scope := xmlstream.NewScope(stanza.NSClient)
	for _, b := range unacked {
		el, err := xmlstream.ParseIn(b, xmlstream.Limits{}, scope)
		if err != nil {
			continue
		}
		st, err := stanza.Parse(el)
		if err != nil {
			continue
		}
		switch {
		case st.Kind == stanza.IQ && (st.Type == "get" || st.Type == "set"):
			err = stanza.ErrServiceUnavailable
		case st.Kind != stanza.Message:
			continue
		default:
			st.SetTo(full.Bare())
			err = m.StoreOffline(ctx, st)
		}
		if err == nil || errors.Is(err, router.ErrDrop) {
			continue
		}
		var se *stanza.Error
		if !errors.As(err, &se) || errors.Is(err, router.ErrWriteFailed) {
			m.log.Error("unacknowledged message not stored", "jid", full.Bare().String(), "err", err)
		}
		if se == nil {
			se = stanza.ErrInternalServerError
		}
		if reply := stanza.ErrorReply(st, se); reply != nil && !st.From.IsZero() {
			m.router.Reply(ctx, reply)
		}
	}
}

// errFull bounces a message for a user whose offline storage is full.
var errFull = stanza.ErrServiceUnavailable.WithText("offline storage for this user is full")

// errDisabled bounces a message when offline storage is turned off
// (offline_max = 0).
var errDisabled = stanza.ErrServiceUnavailable.WithText("offline storage is disabled on this server")

// errNotStored bounces a message that offline storage failed to keep: it
// is the only copy, so the sender must know; retry later (type wait).
var errNotStored = stanza.ErrResourceConstraint.WithText("offline storage failed; try again later")

// storeFailed marks a storage error so that the router reports it as a
// failed durable write and bounces the message with errNotStored.
func storeFailed(err error) error {
	return fmt.Errorf("%w: %w: %w", router.ErrWriteFailed, errNotStored, err)
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
	store, noStore := hints.Storage(el)
	if noStore {
		return false
	}
	for _, c := range el.Children {
		switch {
		case c.Name == "thread" && (c.Space == stanza.NSClient || c.Space == stanza.NSServer):
		case c.Space == hints.NS, c.Space == NSChatStates, c.Space == router.NSStanzaID, c.Space == NSDelay:
		default:
			return true // a body, a subject or another payload
		}
	}
	return store
}

// OnInitialPresence is the presence hook: a session that becomes
// available with a non-negative priority receives the stored messages
// (XEP-0160 §3; RFC 6121 §4.7.2.3: a negative priority never gets
// messages for the bare JID).
func (m *Module) OnInitialPresence(_ context.Context, full jid.JID, priority int8) {
	if priority < 0 {
		return
	}
	m.Deliver(full)
}

// Deliver starts sending a user's stored messages, oldest first, to one
// session and returns; it implements issue 10's rule that nothing stored
// is lost:
//
//   - a message is deleted only once the session reports that its client
//     has it (router.Tracked: acknowledged under XEP-0198, else written to
//     the connection);
//   - messages go out in batches of at most BatchBytes, the next batch
//     only after the previous one reached the client, so that a backlog
//     never overflows the session's bounded queue;
//   - when the session ends, whatever it did not confirm stays stored for
//     the next login (at-least-once: a client may see a message twice and
//     de-duplicates by stanza id).
//
// One delivery per user runs at a time; a call while one runs makes it
// read the queue once more when it is done (for the newest session asked
// for), so that a message stored meanwhile is not left behind.
func (m *Module) Deliver(full jid.JID) {
	user := full.Local()
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.delivering[user]; d != nil {
		d.full, d.again = full, true
		return
	}
	d := &delivery{full: full}
	m.delivering[user] = d
	m.wg.Add(1)
	go m.run(user, d)
}

func (m *Module) run(user string, d *delivery) {
	defer m.wg.Done()
	for {
		m.mu.Lock()
		full := d.full
		d.again = false
		m.mu.Unlock()
		if err := m.deliverAll(context.Background(), full); err != nil {
			m.log.Error("offline delivery failed", "jid", full.String(), "err", err)
		}
		m.mu.Lock()
		if !d.again {
			delete(m.delivering, user)
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
	}
}

// outcome is what a session reported of one stored message.
type outcome struct {
	id        int64
	delivered bool
}

// deliverAll sends one reading of the queue to full, batch by batch, and
// deletes what reached the client. It stops at the first message the
// session did not take or confirm.
func (m *Module) deliverAll(ctx context.Context, full jid.JID) error {
	user := full.Local()
	msgs, err := m.store.OfflineMessages(ctx, user)
	if err != nil {
		return fmt.Errorf("offline: load for %s: %w", user, err)
	}
	for len(msgs) > 0 {
		n, size := 0, 0
		for n < len(msgs) && (n == 0 || size+len(msgs[n].Stanza) <= m.batchBytes) {
			size += len(msgs[n].Stanza)
			n++
		}
		batch := msgs[:n]
		msgs = msgs[n:]
		results := make(chan outcome, len(batch)) // never blocks the session
		var done []int64
		sent, complete := 0, true
		for _, msg := range batch {
			st, err := parse(msg.Stanza)
			if err != nil {
				// Unreadable rows would block the queue forever: drop them.
				m.log.Error("offline message unreadable, dropped", "jid", full.Bare().String(), "id", msg.ID, "err", err)
				done = append(done, msg.ID)
				continue
			}
			id := msg.ID
			if !m.router.DeliverTracked(full, st, func(ok bool) { results <- outcome{id, ok} }) {
				complete = false // the session went away: keep the rest
				break
			}
			sent++
		}
		for range sent {
			r := <-results
			if r.delivered {
				done = append(done, r.id)
			} else {
				complete = false
			}
		}
		if len(done) > 0 {
			if err := m.store.DeleteOffline(ctx, user, done); err != nil {
				return fmt.Errorf("offline: delete for %s: %w", user, err)
			}
		}
		if !complete {
			return nil
		}
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
