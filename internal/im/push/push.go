package push

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"parley/internal/clock"
	"parley/internal/dataform"
	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces and form types.
const (
	NS                 = "urn:xmpp:push:0"
	NSSummary          = "urn:xmpp:push:summary"
	NSPubSub           = "http://jabber.org/protocol/pubsub"
	FormPublishOptions = "http://jabber.org/protocol/pubsub#publish-options"
)

// Defaults for zero Options.
const (
	// DefaultMinInterval is the least time between two notifications to
	// one device: a burst of messages wakes the phone once, and its
	// client then fetches them all.
	DefaultMinInterval = 10 * time.Second
	// DefaultMaxDevices bounds the registrations one account may keep.
	DefaultMaxDevices = 20
)

// Limits of what a client may register.
const (
	maxNode    = 1024 // bytes of a node name
	maxOptions = 8192 // bytes of a publish-options form as serialised
)

// Store keeps the registrations.
type Store = store.PushRegistrations

// Router is what publishing needs; *router.Router has it.
type Router interface {
	Query(ctx context.Context, iq *stanza.Stanza) (*stanza.Stanza, error)
	Domain() jid.JID
	Nickname(st *stanza.Stanza) string
}

// Options configure the module; zero values mean the defaults.
type Options struct {
	Store Store
	// IncludeBody puts the last message's body into notifications
	// ([push] include_body): the app server, and the phone platform's
	// push service behind it, then read it. Off by default.
	IncludeBody bool
	// MinInterval is the least time between two notifications to one
	// device (DefaultMinInterval); messages in between are counted and
	// the next notification carries the count.
	MinInterval time.Duration
	// MaxDevices bounds the registrations per account
	// (DefaultMaxDevices); one more is refused with resource-constraint.
	MaxDevices int
	// Clock drives the rate limit; nil is the system's.
	Clock clock.Clock
	Log   *slog.Logger
}

// Module serves enable/disable and publishes notifications.
type Module struct {
	store       Store
	router      Router // set by Register
	includeBody bool
	minInterval time.Duration
	maxDevices  int
	clock       clock.Clock
	log         *slog.Logger

	ctx    context.Context // ends publishing at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per publish in flight

	mu      sync.Mutex // guards devices
	devices map[device]*pending
}

// device identifies a registration.
type device struct{ user, service, node string }

// pending is what a device has not been told yet; guarded by Module.mu.
type pending struct {
	count int       // messages since the client enabled
	last  time.Time // when the last notification went out
}

// New returns the module; install it with Register.
func New(o Options) *Module {
	defaults.Positive(&o.MinInterval, DefaultMinInterval)
	defaults.Positive(&o.MaxDevices, DefaultMaxDevices)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Module{store: o.Store, includeBody: o.IncludeBody, minInterval: o.MinInterval, maxDevices: o.MaxDevices,
		clock: clock.Or(o.Clock), log: o.Log, ctx: ctx, cancel: cancel, devices: make(map[device]*pending)}
}

// Register installs the enable/disable handler and the hook for messages
// that reach an account while its clients are away. The feature is
// advertised on the account (disco's AddAccountFeature(NS), XEP-0357 §4).
func (m *Module) Register(r *router.Router) {
	m.use(r)
	r.HandleIQ(NS, m.HandleIQ)
	r.OnUnattended(m.Unattended)
}

func (m *Module) use(r Router) { m.router = r }

// Close stops the notifications in flight and waits for them.
func (m *Module) Close() {
	m.cancel()
	m.wg.Wait()
}

// HandleIQ serves <enable/> and <disable/> (XEP-0357 §5, §6) for the
// requester's own account.
func (m *Module) HandleIQ(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	if !iq.To.IsZero() && iq.To != iq.From.Bare() {
		return nil, stanza.ErrServiceUnavailable
	}
	if iq.Type != "set" {
		return nil, stanza.ErrBadRequest.WithText("enable and disable are set requests")
	}
	p := iq.Payload()
	service, err := jid.Parse(p.Get("jid"))
	if err != nil || p.Get("jid") == "" {
		return nil, stanza.ErrBadRequest.WithText("jid must be the app server's address")
	}
	user, node := iq.From.Local(), p.Get("node")
	if len(node) > maxNode {
		return nil, stanza.ErrNotAcceptable.WithText("node too long")
	}
	switch p.Name {
	case "enable":
		return nil, m.enable(ctx, user, service.String(), node, p)
	case "disable":
		// §6: without a node, every node of that app server goes.
		if _, err := m.store.DisablePush(ctx, user, service.String(), node); err != nil {
			m.log.Error("push: disable failed", "user", user, "err", err)
			return nil, stanza.ErrInternalServerError
		}
		m.forget(user, service.String(), node)
		return nil, nil
	}
	return nil, stanza.ErrFeatureNotImplemented
}

func (m *Module) enable(ctx context.Context, user, service, node string, p *xmlstream.Element) error {
	if node == "" {
		return stanza.ErrBadRequest.WithText("node is required")
	}
	var options []byte
	if x := p.Child("x", dataform.NS); x != nil {
		f, err := dataform.Parse(x, dataform.Limits{})
		if err != nil {
			return err
		}
		if f.FormType() != FormPublishOptions {
			return stanza.ErrBadRequest.WithText("the form must be " + FormPublishOptions)
		}
		options = xmlstream.Append(nil, f.Element())
		if len(options) > maxOptions {
			return stanza.ErrNotAcceptable.WithText("publish-options form too large")
		}
	}
	regs, err := m.store.PushRegistrations(ctx, user)
	if err != nil {
		m.log.Error("push: registrations unavailable", "user", user, "err", err)
		return stanza.ErrInternalServerError
	}
	known := false
	for _, r := range regs {
		known = known || (r.Service == service && r.Node == node)
	}
	if !known && len(regs) >= m.maxDevices {
		return stanza.ErrResourceConstraint.WithText("too many push registrations; disable one first")
	}
	reg := store.PushRegistration{Service: service, Node: node, Options: options, Created: m.clock.Now()}
	if err := m.store.EnablePush(ctx, user, reg); err != nil {
		m.log.Error("push: enable failed", "user", user, "err", err)
		return stanza.ErrInternalServerError
	}
	m.forget(user, service, node) // a client enables as it connects: nothing is pending for it
	return nil
}

// forget drops the pending state of one device, or of every node of a
// service when node is "".
func (m *Module) forget(user, service, node string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := range m.devices {
		if d.user == user && d.service == service && (node == "" || d.node == node) {
			delete(m.devices, d)
		}
	}
}

// Unattended is the router's hook (router.OnUnattended): messages reached
// the account while none of its clients is connected, or a hibernating
// session held them unacknowledged. Those worth pushing make one
// notification per device, counting them all, naming the last.
func (m *Module) Unattended(ctx context.Context, msgs []*stanza.Stanza) {
	var last *stanza.Stanza
	n := 0
	for _, st := range msgs {
		if router.Notable(st, m.router.Nickname(st)) {
			last, n = st, n+1
		}
	}
	if last == nil {
		return
	}
	user := last.To.Local()
	regs, err := m.store.PushRegistrations(ctx, user)
	if err != nil {
		m.log.Error("push: registrations unavailable", "user", user, "err", err)
		return
	}
	if len(regs) == 0 {
		return
	}
	sender := last.From.Bare().String()
	body := ""
	if m.includeBody {
		body = last.El.ChildText("body", "")
	}
	now := m.clock.Now()
	for _, reg := range regs {
		count, due := m.count(device{user, reg.Service, reg.Node}, n, now)
		if !due {
			continue // rate-limited: the next notification carries the count
		}
		note := notification{user: user, reg: reg, count: count, sender: sender, body: body}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.publish(note)
		}()
	}
}

// count counts n messages for a device and reports whether a
// notification is due (none went out within MinInterval).
func (m *Module) count(d device, n int, now time.Time) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.devices[d]
	if p == nil {
		p = &pending{}
		m.devices[d] = p
	}
	p.count += n
	if !p.last.IsZero() && now.Sub(p.last) < m.minInterval {
		return p.count, false
	}
	p.last = now
	return p.count, true
}

// notification is one publish to one device.
type notification struct {
	user   string
	reg    store.PushRegistration
	count  int
	sender string
	body   string
}

// publish sends the notification (XEP-0357 §7) and drops the
// registration when the app server refuses it (§8).
func (m *Module) publish(n notification) {
	iq, err := m.publishIQ(n)
	if err != nil {
		m.log.Error("push: registration unreadable, dropped", "user", n.user, "service", n.reg.Service, "err", err)
		m.drop(n)
		return
	}
	answer, err := m.router.Query(m.ctx, iq)
	switch {
	case err != nil:
		// No answer (timeout, shutdown): keep the registration; the app
		// server may be down for a while.
		m.log.Info("push: no answer from app server", "user", n.user, "service", n.reg.Service, "err", err)
	case answer.Type == "error":
		m.log.Info("push: app server refused, registration disabled", "user", n.user, "service", n.reg.Service,
			"condition", stanzaErrorCondition(answer))
		m.drop(n)
	}
}

func (m *Module) drop(n notification) {
	if _, err := m.store.DisablePush(context.Background(), n.user, n.reg.Service, n.reg.Node); err != nil {
		m.log.Error("push: disable failed", "user", n.user, "err", err)
	}
	m.forget(n.user, n.reg.Service, n.reg.Node)
}

// publishIQ builds the XEP-0060 publish from the account's bare JID.
func (m *Module) publishIQ(n notification) (*stanza.Stanza, error) {
	service, err := jid.Parse(n.reg.Service)
	if err != nil {
		return nil, err
	}
	from, err := jid.New(n.user, m.router.Domain().String(), "")
	if err != nil {
		return nil, err
	}
	fields := []dataform.Field{
		dataform.NewField("message-count", "", "", strconv.Itoa(n.count)),
		dataform.NewField("last-message-sender", "", "", n.sender),
	}
	if n.body != "" {
		fields = append(fields, dataform.NewField("last-message-body", "", "", n.body))
	}
	summary := dataform.New("submit", NSSummary, fields...).Element()
	pubsub := xmlstream.New("pubsub", NSPubSub).Add(
		xmlstream.New("publish", NSPubSub, "node", n.reg.Node).Add(
			xmlstream.New("item", NSPubSub).Add(
				xmlstream.New("notification", NS).Add(summary))))
	if n.reg.Options != nil {
		x, err := xmlstream.Parse(n.reg.Options, xmlstream.Limits{})
		if err != nil {
			return nil, err
		}
		pubsub.Add(xmlstream.New("publish-options", NSPubSub).Add(x))
	}
	iq := stanza.New(stanza.IQ, from, service, "set", "")
	iq.AddChild(pubsub)
	return iq, nil
}

func stanzaErrorCondition(st *stanza.Stanza) string {
	if e := st.El.Child("error", ""); e != nil {
		for _, c := range e.Children {
			if c.Space == stanza.NSStanzas {
				return c.Name
			}
		}
	}
	return ""
}
