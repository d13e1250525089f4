package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"parley/internal/defaults"
	"parley/internal/im/keylock"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces of discovery and delayed delivery.
const (
	NSDiscoInfo  = "http://jabber.org/protocol/disco#info"
	NSDiscoItems = "http://jabber.org/protocol/disco#items"
	NSDelay      = "urn:xmpp:delay"
	NSMetaData   = NS + "#meta-data"
	NSSubAuth    = NS + "#subscribe_authorization"
)

// Store is the storage the service needs.
type Store = store.PubSub

// Roster answers what a node owner's roster says of a requester, for the
// presence and roster access models; *roster.Module has it.
type Roster interface {
	Item(ctx context.Context, user, contact jid.JID) (store.RosterItem, bool, error)
}

// Sender routes a stanza by its 'to'; *router.Router has it.
type Sender interface {
	Send(ctx context.Context, st *stanza.Stanza)
	Domain() jid.JID
}

// Who may create nodes (§8.1; Options.Create).
const (
	CreateLocal  = "local"  // accounts of the server's domain (the default)
	CreateAnyone = "anyone" // any entity, remote ones too
)

// Limits bound what the service holds and what one request may cost
// (docs/SECURITY.md); zero means the default. The PEP quota keys apply
// ([quotas] pep_item_bytes, pep_node_items, pep_nodes, pep_reply_bytes,
// pep_bytes), and PEP (internal/im/pep) bounds each account's service by
// the same Limits.
type Limits struct {
	// ItemBytes is the largest item payload, serialised; a larger one is
	// refused with not-acceptable + payload-too-big (XEP-0060 §7.1.3.6).
	ItemBytes int
	// NodeItems is the most items a node keeps: what max_items "max"
	// means, and the ceiling of any max_items.
	NodeItems int
	// Nodes is the most nodes one entity may own; policy-violation +
	// max-nodes-exceeded.
	Nodes int
	// ReplyBytes bounds an items reply (XEP-0060 §6.5): items beyond it
	// are left to the next page (§6.5.4, XEP-0059). It is raised to fit
	// one item of ItemBytes.
	ReplyBytes int
	// OwnerBytes bounds the payload bytes of the items of all the nodes
	// one entity (a PEP account) owns; a publish growing them beyond is
	// policy-violation.
	OwnerBytes int64
}

// Defaults of Limits and of a new node (§16.4.3: the service decides).
const (
	DefaultItemBytes  = 128 << 10
	DefaultNodeItems  = 1000
	DefaultNodes      = 1000
	DefaultReplyBytes = 512 << 10
	DefaultOwnerBytes = 16 << 20
	DefaultMaxItems   = 10
	maxNodeName       = 1024
)

// WithDefaults returns l with each field of zero or less at its default.
func (l Limits) WithDefaults() Limits {
	defaults.Positive(&l.ItemBytes, DefaultItemBytes)
	defaults.Positive(&l.NodeItems, DefaultNodeItems)
	defaults.Positive(&l.Nodes, DefaultNodes)
	defaults.Positive(&l.ReplyBytes, DefaultReplyBytes)
	defaults.Positive(&l.OwnerBytes, DefaultOwnerBytes)
	// One item, its id (bounded by the stanza size, like the item) and
	// the envelope always fit.
	l.ReplyBytes = max(l.ReplyBytes, 2*l.ItemBytes+1024)
	return l
}

// CheckItem refuses an item payload, serialised, larger than ItemBytes.
func (l Limits) CheckItem(payload []byte) error {
	if len(payload) > l.ItemBytes {
		return ErrTooBig.WithText("the payload is larger than " + strconv.Itoa(l.ItemBytes) + " bytes")
	}
	return nil
}

// PublishedItem is the id of the one item of a publish request (§7.1;
// a new one when it has none, §7.1.1) and its payload serialised, within
// ItemBytes (§7.1.3.6 payload-too-big, §7.1.3.4 invalid-payload for more
// than one); PEP and the service read their publishes by it.
func (l Limits) PublishedItem(pub *xmlstream.Element) (id string, raw []byte, err error) {
	var item *xmlstream.Element
	for _, c := range pub.Children {
		if c.Name == "item" && c.Space == NS {
			if item != nil {
				return "", nil, ErrTooMany.WithText("one item per publish")
			}
			item = c
		}
	}
	if item == nil {
		return "", nil, ErrItemRequired
	}
	payload := item.FirstChild()
	if payload == nil {
		return "", nil, ErrPayload
	}
	raw = xmlstream.Append(nil, payload) // declares its namespace
	if err := l.CheckItem(raw); err != nil {
		return "", nil, err
	}
	if id = item.Get("id"); id == "" {
		id = stanza.NewID()
	}
	return id, raw, nil
}

// RetractedItem is the id of the item a <retract/> names (§7.2.1;
// item-required without one) and whether it asks for the retraction to
// be notified (§7.2.2.1: notify true or 1).
func RetractedItem(r *xmlstream.Element) (id string, notify bool, err error) {
	it := r.Child("item", NS)
	if it == nil || it.Get("id") == "" {
		return "", false, ErrItemRequired
	}
	v := r.Get("notify")
	return it.Get("id"), v == "true" || v == "1", nil
}

// Options are the service's dependencies and limits.
type Options struct {
	JID    jid.JID // zero: pubsub.<domain>
	Store  Store
	Roster Roster // nil: presence and roster nodes admit owners alone
	// Create is who may create nodes: CreateLocal (zero) or CreateAnyone.
	Create string
	Limits Limits
	Log    *slog.Logger // nil: slog.Default()
}

// Module is the pubsub service at pubsub.<domain> (XEP-0060).
type Module struct {
	Host         // Addr is zero until Register
	roster       Roster
	createPolicy string
	limits       Limits
	log          *slog.Logger
	router       Sender // set by Register

	// nodes serialises, per node, changing a node with sending the
	// notifications about it, so subscribers get events in the order of
	// the changes.
	nodes *keylock.Locks
}

// New returns the service; install it with Register.
func New(o Options) *Module {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	create := o.Create
	if create == "" {
		create = CreateLocal
	}
	return &Module{Host: Host{Store: o.Store, Addr: o.JID}, roster: o.Roster, createPolicy: create,
		limits: o.Limits.WithDefaults(), log: log, nodes: keylock.New(64)}
}

// Register makes the module the handler of its domain.
func (m *Module) Register(r *router.Router) {
	m.router = r
	if m.Addr.IsZero() {
		m.Addr = jid.MustParse("pubsub." + r.Domain().String())
	}
	r.HandleDomain(m.Addr.String(), m.Handle)
}

// JID is the service's address.
func (m *Module) JID() jid.JID { return m.Addr }

func (m *Module) lockNode(node string) *sync.Mutex {
	return m.nodes.Lock(node)
}

// Features are the service's disco#info features (§10).
func Features() []string {
	f := []string{NS}
	for _, v := range []string{"access-authorize", "access-open", "access-presence", "access-roster",
		"access-whitelist", "auto-create", "config-node", "create-and-configure", "create-nodes",
		"delete-items", "delete-nodes", "get-pending", "instant-nodes", "item-ids", "manage-subscriptions",
		"meta-data", "modify-affiliations", "multi-items", "outcast-affiliation", "persistent-items",
		"publish", "publish-options", "publisher-affiliation", "purge-nodes", "retract-items",
		"retrieve-affiliations", "retrieve-default", "retrieve-items", "retrieve-subscriptions",
		"subscribe", "subscription-options", "member-affiliation"} {
		f = append(f, NS+"#"+v)
	}
	return f
}

// Handle receives every stanza addressed to the service.
func (m *Module) Handle(ctx context.Context, st *stanza.Stanza) {
	if st.From.IsZero() || st.To.Local() != "" || st.To.Resource() != "" {
		if st.Kind == stanza.IQ || st.Kind == stanza.Message {
			m.bounce(ctx, st, stanza.ErrServiceUnavailable)
		}
		return
	}
	switch st.Kind {
	case stanza.IQ:
		if st.Type != "get" && st.Type != "set" {
			return
		}
		var deferred []*stanza.Stanza
		payload, err := m.iq(ctx, st, &deferred)
		if err != nil {
			var se *stanza.Error
			if !errors.As(err, &se) {
				m.log.Error("pubsub: request failed", "jid", st.From.String(), "err", err)
				se = stanza.ErrInternalServerError
			}
			m.bounce(ctx, st, se)
			return
		}
		m.router.Send(ctx, stanza.Result(st, payload))
		for _, d := range deferred { // after the result (§6.1.7)
			m.router.Send(ctx, d)
		}
	case stanza.Message:
		if st.Type != "error" {
			m.message(ctx, st)
		}
	}
}

func (m *Module) bounce(ctx context.Context, st *stanza.Stanza, e *stanza.Error) {
	if r := stanza.ErrorReply(st, e); r != nil {
		m.router.Send(ctx, r)
	}
}

// iq serves one request; deferred stanzas are sent after its result.
func (m *Module) iq(ctx context.Context, iq *stanza.Stanza, deferred *[]*stanza.Stanza) (*xmlstream.Element, error) {
	p := iq.Payload()
	if p == nil {
		return nil, stanza.ErrBadRequest
	}
	switch {
	case p.Space == NSDiscoInfo && iq.Type == "get":
		return m.discoInfo(ctx, iq.From, p.Get("node"))
	case p.Space == NSDiscoItems && iq.Type == "get":
		return m.discoItems(ctx, iq.From, p.Get("node"), p.Child("set", rsm.NS))
	case p.Space == NS && p.Name == "pubsub":
		return m.pubsub(ctx, iq, p, deferred)
	case p.Space == NSOwner && p.Name == "pubsub":
		return m.owner(ctx, iq, p, deferred)
	}
	return nil, stanza.ErrServiceUnavailable
}

// Action is the first child of a pubsub element in its namespace other
// than those that qualify an action (the service's: publish-options,
// configure, options).
func Action(p *xmlstream.Element, space string, qualifiers ...string) *xmlstream.Element {
next:
	for _, c := range p.Children {
		if c.Space != space {
			continue
		}
		for _, q := range qualifiers {
			if c.Name == q {
				continue next
			}
		}
		return c
	}
	return nil
}

// node is a loaded node of the service.
type node struct {
	Name string
	Config
	affs map[string]string // bare JID -> affiliation
}

func (n *node) affiliation(j jid.JID) string {
	if a, ok := n.affs[j.Bare().String()]; ok {
		return a
	}
	return store.AffiliationNone
}

func (n *node) owners() []jid.JID {
	var out []jid.JID
	for j, a := range n.affs {
		if a == store.AffiliationOwner {
			if o, err := jid.Parse(j); err == nil {
				out = append(out, o)
			}
		}
	}
	return out
}

// load reads a node with its affiliations; ErrNoNode if there is none.
func (m *Module) load(ctx context.Context, name string) (*node, error) {
	if name == "" {
		return nil, ErrNodeRequired
	}
	sn, err := m.Store.PubSubNode(ctx, m.Addr.String(), name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoNode
	}
	if err != nil {
		return nil, err
	}
	n := &node{Name: name}
	if err := n.Unmarshal(sn.Config); err != nil {
		return nil, fmt.Errorf("pubsub: configuration of %s: %w", name, err)
	}
	if n.affs, err = m.Affiliations(ctx, name); err != nil {
		return nil, err
	}
	return n, nil
}

func (m *Module) save(ctx context.Context, n *node) error {
	return m.Store.PutPubSubNode(ctx, m.Addr.String(), store.PubSubNode{Node: n.Name, MaxItems: n.MaxItems, Config: n.Marshal()})
}

// defaultConfig is a new node's configuration (§8.3).
func defaultConfig() Config {
	return Config{AccessModel: AccessOpen, PersistItems: true, MaxItems: DefaultMaxItems, PublishModel: PublishPublishers}
}

// access applies the node's access model to from (§4.5): owners and
// affiliated entities by their affiliation, the presence and roster
// models by any owner's roster; the authorize model admits subscribers
// whose subscription an owner approved.
func (m *Module) access(ctx context.Context, n *node, from jid.JID) error {
	aff := n.affiliation(from)
	if aff == store.AffiliationOwner {
		return nil
	}
	if n.AccessModel == AccessAuthorize && aff != store.AffiliationOutcast && !isAffiliated(aff) {
		ok, err := m.subscribed(ctx, n, from)
		if err != nil || ok {
			return err
		}
		return Error(stanza.ErrNotAuthorized, "not-subscribed")
	}
	var refused error
	for _, o := range n.owners() {
		r := m.roster
		if !m.isLocal(o) {
			r = nil // a remote owner's roster is not known here
		}
		var se *stanza.Error
		if refused = AccessBy(ctx, r, n.Config, aff, o, from); refused == nil || !errors.As(refused, &se) {
			return refused // admitted, or the roster could not be read
		}
	}
	if refused == nil { // no owner
		refused = Access(n.Config, aff, Contact{})
	}
	return refused
}

// readable is nil when the node exists and from may read it (§4.5:
// its items, §6.5, and their discovery, §5.5), else why not.
func (m *Module) readable(ctx context.Context, from jid.JID, name string) error {
	n, err := m.load(ctx, name)
	if err != nil {
		return err
	}
	return m.access(ctx, n, from)
}

func isAffiliated(aff string) bool {
	return aff == store.AffiliationOwner || aff == store.AffiliationPublisher || aff == store.AffiliationMember
}

func (m *Module) isLocal(j jid.JID) bool { return j.Domain() == m.router.Domain().Domain() }

// subscribed reports whether from's bare or full JID has a subscription
// in state subscribed to n.
func (m *Module) subscribed(ctx context.Context, n *node, from jid.JID) (bool, error) {
	subs, err := m.Store.PubSubSubscriptions(ctx, m.Addr.String(), n.Name)
	if err != nil {
		return false, err
	}
	for _, s := range subs {
		if s.State == store.SubscriptionSubscribed && (s.JID == from.Bare().String() || s.JID == from.String()) {
			return true, nil
		}
	}
	return false, nil
}

// mayCreate applies the creation policy (§8.1.3.1).
func (m *Module) mayCreate(from jid.JID) error {
	if m.createPolicy == CreateAnyone || m.isLocal(from) {
		return nil
	}
	return stanza.ErrForbidden.WithText("only local users may create nodes")
}

// ownedBy counts the nodes an entity owns, for the node quota.
func (m *Module) ownedBy(ctx context.Context, who jid.JID) (int, error) {
	affs, err := m.AffiliationsOf(ctx, who)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range affs {
		if a == store.AffiliationOwner {
			n++
		}
	}
	return n, nil
}

// createNode makes a node owned by from with configuration c (§8.1).
func (m *Module) createNode(ctx context.Context, from jid.JID, name string, c Config) (*node, error) {
	if err := m.mayCreate(from); err != nil {
		return nil, err
	}
	if len(name) > maxNodeName {
		return nil, stanza.ErrNotAcceptable.WithText("node names are at most " + strconv.Itoa(maxNodeName) + " bytes")
	}
	owned, err := m.ownedBy(ctx, from)
	if err != nil {
		return nil, err
	}
	if owned >= m.limits.Nodes {
		m.log.Info("pubsub: node quota reached", "jid", from.Bare().String(), "nodes", owned)
		return nil, ErrTooManyNodes.WithText("an entity may own at most " + strconv.Itoa(m.limits.Nodes) + " nodes")
	}
	if _, err := m.Store.PubSubNode(ctx, m.Addr.String(), name); err == nil {
		return nil, stanza.ErrConflict.WithText("the node exists")
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	n := &node{Name: name, Config: c, affs: map[string]string{from.Bare().String(): store.AffiliationOwner}}
	if err := m.save(ctx, n); err != nil {
		return nil, err
	}
	err = m.Store.SetPubSubAffiliation(ctx, m.Addr.String(), name,
		store.PubSubAffiliation{JID: from.Bare().String(), Affiliation: store.AffiliationOwner})
	if err != nil {
		return nil, err
	}
	return n, nil
}
