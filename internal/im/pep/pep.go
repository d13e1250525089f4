package pep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"parley/internal/dataform"
	"parley/internal/defaults"
	"parley/internal/im/keylock"
	"parley/internal/im/pubsub"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces (the pubsub core's, XEP-0060).
const (
	NS               = pubsub.NS
	NSOwner          = pubsub.NSOwner
	NSEvent          = pubsub.NSEvent
	NSErrors         = pubsub.NSErrors
	NSPublishOptions = pubsub.NSPublishOptions
	NSNodeConfig     = pubsub.NSNodeConfig
	NSData           = dataform.NS
	NSDelay          = pubsub.NSDelay
)

// NSRSM is result set management (XEP-0059), for paged items replies.
const NSRSM = rsm.NS

// Limits bound what one account's service may hold and what one request
// may cost (docs/SECURITY.md). Zero means the default.
type Limits struct {
	// Limits are the pubsub core's, for the account as the one owner of
	// its nodes: OwnerBytes bounds the payload bytes of all of the
	// account's items, Nodes the account's nodes.
	pubsub.Limits
	// Discoveries bounds the entity capabilities (XEP-0115) looked up at
	// once; more wait in a queue. AccountDiscoveries bounds the vers one
	// account's sessions may have looked up or queued at once; a new ver
	// beyond it is not looked up (its session gets no notifications
	// until its next presence after one of them ended).
	Discoveries        int
	AccountDiscoveries int
}

// Defaults of Limits beyond the pubsub core's (pubsub.DefaultItemBytes...).
const (
	DefaultDiscoveries        = 256
	DefaultAccountDiscoveries = 4
)

func (l Limits) withDefaults() Limits {
	l.Limits = l.Limits.WithDefaults()
	defaults.Positive(&l.Discoveries, DefaultDiscoveries)
	defaults.Positive(&l.AccountDiscoveries, DefaultAccountDiscoveries)
	return l
}

// Store is the storage the service needs: nodes and items of PEP, and
// the pubsub core's node configuration beyond them, subscriptions and
// affiliations (service: the account's bare JID).
type Store interface {
	store.PEP
	store.PubSub
}

// Roster answers who may see presence-model nodes; *roster.Module has it.
type Roster interface {
	// Item returns user's roster item for contact.
	Item(ctx context.Context, user, contact jid.JID) (store.RosterItem, bool, error)
	// Audience returns the contacts subscribed to user's presence.
	Audience(ctx context.Context, user jid.JID) (subscribers, publishers []jid.JID, err error)
}

// Router is what the service needs of the router; *router.Router has it.
type Router interface {
	Resources(bare jid.JID) []router.Resource
	DeliverTo(full jid.JID, st *stanza.Stanza) bool
	IsLocal(j jid.JID) bool
	Query(ctx context.Context, iq *stanza.Stanza) (*stanza.Stanza, error)
	// Send routes by 'to': approval requests to an owner who may be
	// offline (stored), decisions' answers to remote subscribers.
	Send(ctx context.Context, st *stanza.Stanza)
}

// Options are the service's dependencies and limits.
type Options struct {
	Store Store
	// Roster answers who may read presence-model nodes and who gets
	// notifications; nil means nobody but the owner.
	Roster Roster
	// Blocks, if set, reports whether a local user has blocked a JID
	// (XEP-0191). Events go straight to sessions, past the router's
	// interceptors, so the service asks itself (XEP-0163 §4.3.3).
	Blocks func(ctx context.Context, user string, j jid.JID) (bool, error)
	// DiscoTimeout bounds the wait for a disco#info answer (XEP-0115
	// §6.2); zero means the package's DiscoTimeout.
	DiscoTimeout time.Duration
	Limits       Limits
	Log          *slog.Logger // nil: slog.Default()
}

// Module is the PEP service of every local account.
type Module struct {
	store  Store
	router Router // set by Register
	roster Roster
	log    *slog.Logger
	limits Limits

	// DiscoTimeout bounds the wait for a disco#info answer (XEP-0115
	// §6.2); zero means the package's DiscoTimeout. Set before use.
	DiscoTimeout time.Duration
	// Blocks is Options.Blocks. Set before use.
	Blocks func(ctx context.Context, user string, j jid.JID) (bool, error)

	caps      *capsCache
	interests interestTable
	hooks     map[string][]PublishHook // by node; set before use (OnPublish)

	// owners serialises, per owner, changing a node's items with sending
	// the events about them: a session never gets an older item after a
	// newer one, and a last item read while a publish is under way waits
	// for it (XEP-0163 §4.3.4).
	owners *keylock.Locks

	// ctx ends the caps lookups (discover goroutines, counted by wg) at
	// Close.
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New returns the service; install it with Register and its presence
// hooks (Available, Unavailable), and Close it at shutdown.
func New(o Options) *Module {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	m := &Module{store: o.Store, roster: o.Roster, log: log, limits: o.Limits.withDefaults(),
		DiscoTimeout: o.DiscoTimeout, Blocks: o.Blocks, caps: newCapsCache(maxCaps), owners: keylock.New(64)}
	m.interests.sessions = make(map[jid.JID]*interest)
	m.interests.remote = make(map[jid.JID]map[jid.JID]bool)
	m.interests.waiting = make(map[string][]jid.JID)
	m.interests.charged = make(map[string]string)
	m.interests.owed = make(map[string]int)
	m.ctx, m.stop = context.WithCancel(context.Background())
	return m
}

// Register installs the pubsub and pubsub#owner IQ handlers on r, which
// the service then uses to reach sessions.
func (m *Module) Register(r *router.Router) {
	m.router = r
	r.OnSessionEnded(func(_ context.Context, e router.SessionEnded) { m.forget(e.JID) })
	r.HandleIQ(NS, m.HandleIQ)
	r.HandleIQ(NSOwner, m.HandleOwnerIQ)
	r.InterceptInbound(m.decision)
}

// Features are the account's disco#info features (XEP-0163 §6.1, XEP-0060
// §10; publish-options as XEP-0223 asks).
func Features() []string {
	f := []string{NS, NS + "#publish-options"}
	for _, v := range []string{"publish", "auto-create", "persistent-items", "retrieve-items",
		"retract-items", "delete-nodes", "config-node", "access-open", "access-presence",
		"access-roster", "access-whitelist", "access-authorize", "item-ids", "multi-items", "last-published",
		"auto-subscribe", "filtered-notifications", "presence-notifications",
		"subscribe", "subscription-options", "retrieve-subscriptions", "retrieve-affiliations",
		"manage-subscriptions", "modify-affiliations", "member-affiliation", "outcast-affiliation",
		"purge-nodes"} {
		f = append(f, NS+"#"+v)
	}
	return f
}

// lockOwner takes the event lock of an owner; the caller unlocks it.
func (m *Module) lockOwner(own jid.JID) *sync.Mutex {
	return m.owners.Lock(own.Local())
}

var (
	errQuota     = stanza.ErrPolicyViolation.WithText("the account's PEP storage quota is used up")
	errOwnerOnly = stanza.ErrForbidden.WithText("only the account's owner may do this")
)

// owner is the account an IQ addresses (RFC 6120 §10.3.3: no 'to' is the
// sender's own).
func owner(iq *stanza.Stanza) jid.JID {
	if iq.To.IsZero() {
		return iq.From.Bare()
	}
	return iq.To.Bare()
}

// HandleIQ serves the pubsub namespace on an account's bare JID.
func (m *Module) HandleIQ(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	own := owner(iq)
	if own.Local() == "" || iq.From.IsZero() {
		return nil, stanza.ErrServiceUnavailable
	}
	ps := iq.Payload()
	action := pubsub.Action(ps, NS, "publish-options")
	if action == nil {
		return nil, stanza.ErrBadRequest.WithText("no pubsub action")
	}
	isOwner := iq.From.Bare() == own
	switch {
	case iq.Type == "set" && action.Name == "publish":
		if !isOwner {
			return nil, errOwnerOnly
		}
		return m.publish(ctx, own, action, ps.Child("publish-options", NS))
	case iq.Type == "set" && action.Name == "retract":
		if !isOwner {
			return nil, errOwnerOnly
		}
		return nil, m.retract(ctx, own, action)
	case iq.Type == "get" && action.Name == "items":
		return m.items(ctx, own, iq.From, action, ps.Child("set", NSRSM))
	}
	return m.subscriberIQ(ctx, own, iq, action, ps)
}

// HandleOwnerIQ serves pubsub#owner: node configuration and deletion.
func (m *Module) HandleOwnerIQ(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	own := owner(iq)
	if own.Local() == "" || iq.From.IsZero() {
		return nil, stanza.ErrServiceUnavailable
	}
	if iq.From.Bare() != own {
		return nil, errOwnerOnly
	}
	action := pubsub.Action(iq.Payload(), NSOwner)
	if action == nil {
		return nil, stanza.ErrBadRequest.WithText("no pubsub#owner action")
	}
	node := action.Get("node")
	if node == "" {
		return nil, pubsub.ErrNodeRequired
	}
	switch {
	case action.Name == "configure" && iq.Type == "get":
		n, err := m.node(ctx, own, node)
		if err != nil {
			return nil, err
		}
		return xmlstream.New("pubsub", NSOwner).Add(
			xmlstream.New("configure", NSOwner, "node", node).Add(n.Form("form"))), nil
	case action.Name == "configure" && iq.Type == "set":
		n, err := m.node(ctx, own, node)
		if err != nil {
			return nil, err
		}
		x := action.Child("x", NSData)
		if x == nil || x.Get("type") != "submit" {
			return nil, stanza.ErrBadRequest.WithText("expected a submitted node_config form")
		}
		if err := m.apply(&n, x, NSNodeConfig); err != nil {
			return nil, err
		}
		if err := m.putNode(ctx, own, n); err != nil {
			return nil, err
		}
		if n.NotifiesConfig() { // XEP-0060 §8.2.4
			m.notify(ctx, own, n, pubsub.ConfigurationEvent(node, n.Config))
		}
		return nil, nil
	case action.Name == "delete" && iq.Type == "set":
		n, err := m.node(ctx, own, node)
		if err != nil {
			return nil, err
		}
		defer m.lockOwner(own).Unlock()
		subs, err := m.host(own).Subscribers(ctx, node)
		if err != nil {
			return nil, err
		}
		err = m.store.DeletePEPNode(ctx, own.Local(), node)
		if errors.Is(err, store.ErrNotFound) {
			return nil, pubsub.ErrNoNode
		}
		if err != nil {
			return nil, err
		}
		if err := m.store.DeletePubSubNode(ctx, own.String(), node); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if !n.NotifiesDelete() {
			return nil, nil
		}
		ev := xmlstream.New("delete", NSEvent, "node", node)
		sent := map[jid.JID]bool{}
		m.sendWanting(ctx, own, own, node, ev, sent)
		for _, sub := range subs { // §8.4.2: subscribers are told
			m.deliver(ctx, own, sub, ev, sent)
		}
		return nil, nil
	}
	return m.ownerIQ(ctx, own, iq, action, node)
}

// pepNode is a PEP node: its name and configuration.
type pepNode struct {
	Name string
	pubsub.Config
	// row: the core's store has the node, which subscriptions and
	// affiliations belong to (nodes made before it have none until
	// one is needed).
	row bool
}

// node loads a node; pubsub.ErrNoNode if there is none. What PEP's own table
// keeps (access model, persistence, items kept) is read from it, the
// rest of the configuration (roster groups) from the pubsub core's,
// where a node configured before it existed has no row.
func (m *Module) node(ctx context.Context, own jid.JID, node string) (pepNode, error) {
	sn, err := m.store.PEPNode(ctx, own.Local(), node)
	if errors.Is(err, store.ErrNotFound) {
		return pepNode{}, pubsub.ErrNoNode
	}
	if err != nil {
		return pepNode{}, err
	}
	n := fromStore(sn)
	if err := m.extend(ctx, own, &n); err != nil {
		return pepNode{}, err
	}
	return n, nil
}

func fromStore(sn store.PEPNode) pepNode {
	return pepNode{Name: sn.Node, Config: pubsub.Config{AccessModel: sn.AccessModel, PersistItems: sn.PersistItems,
		MaxItems: sn.MaxItems, PublishModel: pubsub.PublishPublishers}}
}

// extend reads the configuration beyond PEP's table into n.
func (m *Module) extend(ctx context.Context, own jid.JID, n *pepNode) error {
	pn, err := m.store.PubSubNode(ctx, own.String(), n.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pep: configuration of %s of %s: %w", n.Name, own, err)
	}
	// PEP's table holds the access model, persistence and items kept.
	c := n.Config
	if err := c.Unmarshal(pn.Config); err != nil {
		return fmt.Errorf("pep: configuration of %s of %s: %w", n.Name, own, err)
	}
	c.AccessModel, c.PersistItems, c.MaxItems = n.AccessModel, n.PersistItems, n.MaxItems
	n.Config, n.row = c, true
	return nil
}

// putNode creates or reconfigures a node in both tables.
func (m *Module) putNode(ctx context.Context, own jid.JID, n pepNode) error {
	if err := m.store.PutPEPNode(ctx, own.Local(), n.store()); err != nil {
		return fmt.Errorf("pep: node %s of %s: %w", n.Name, own, err)
	}
	return m.putRow(ctx, own, n)
}

// putRow writes the core's row of a node.
func (m *Module) putRow(ctx context.Context, own jid.JID, n pepNode) error {
	err := m.store.PutPubSubNode(ctx, own.String(), store.PubSubNode{Node: n.Name, Owner: own.Local(),
		MaxItems: n.MaxItems, Config: n.Config.Marshal()})
	if err != nil {
		return fmt.Errorf("pep: node %s of %s: %w", n.Name, own, err)
	}
	return nil
}

func (n pepNode) store() store.PEPNode {
	return store.PEPNode{Node: n.Name, AccessModel: n.AccessModel, PersistItems: n.PersistItems, MaxItems: n.MaxItems}
}

// apply changes n by a submitted form (the core's Config.Apply).
func (m *Module) apply(n *pepNode, x *xmlstream.Element, formType string) error {
	return n.Apply(x, formType, m.limits.NodeItems)
}

// defaultNode is a node created by a publish without options (XEP-0163
// §4.2: access model presence; items persist; one item kept).
func defaultNode(node string) pepNode {
	return pepNode{Name: node, Config: pubsub.Config{AccessModel: store.AccessPresence, PersistItems: true, MaxItems: 1,
		PublishModel: pubsub.PublishPublishers}}
}

// publish handles §7.1: one item, auto-creating the node with the
// publish-options, or checking them against the existing node (§7.1.5),
// within the item size and the account's quotas.
func (m *Module) publish(ctx context.Context, own jid.JID, pub, opts *xmlstream.Element) (*xmlstream.Element, error) {
	node := pub.Get("node")
	if node == "" {
		return nil, pubsub.ErrNodeRequired
	}
	id, raw, err := m.limits.PublishedItem(pub)
	if err != nil {
		return nil, err
	}
	var x *xmlstream.Element
	if opts != nil {
		x = opts.Child("x", NSData)
	}
	err = m.store1(ctx, own, node, id, raw, func(n *pepNode, created bool) error {
		switch {
		case created && x != nil:
			return m.apply(n, x, NSPublishOptions)
		case x != nil:
			return n.Preconditions(x, m.limits.NodeItems)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.published(ctx, own, node, id, raw)
	return xmlstream.New("pubsub", NS).Add(
		xmlstream.New("publish", NS, "node", node).Add(xmlstream.New("item", NS, "id", id))), nil
}

// store1 stores and notifies one item published to own's node: a new
// node is made from the XEP-0163 defaults, then configure (created says
// so) changes or checks the configuration; the account's quotas apply.
// The owner's lock makes checking the quotas and writing one step.
func (m *Module) store1(ctx context.Context, own jid.JID, node, id string, raw []byte, configure func(n *pepNode, created bool) error) error {
	defer m.lockOwner(own).Unlock()
	n, err := m.node(ctx, own, node)
	created := false
	switch {
	case errors.Is(err, pubsub.ErrNoNode):
		n, created = defaultNode(node), true
	case err != nil:
		return err
	}
	if err := configure(&n, created); err != nil {
		return err
	}
	if err := m.withinQuota(ctx, own, n, created, id, len(raw)); err != nil {
		return err
	}
	if created {
		if err := m.putNode(ctx, own, n); err != nil {
			return err
		}
	}
	if n.PersistItems {
		if err := m.store.PublishPEPItem(ctx, own.Local(), node, store.PEPItem{ID: id, Payload: raw}); err != nil {
			return fmt.Errorf("pep: publish to %s of %s: %w", node, own, err)
		}
	}
	m.notify(ctx, own, n, pubsub.ItemEvent(node, id, own.String(), raw))
	return nil
}

// withinQuota checks that publishing an item of size bytes as id to n
// (created: a node yet to be made) keeps the account within its node
// count and payload bytes. It counts what the publish replaces (the same
// id) and trims (items beyond max_items), so an account at its quota can
// still replace its items. The caller holds the owner's lock.
func (m *Module) withinQuota(ctx context.Context, own jid.JID, n pepNode, created bool, id string, size int) error {
	u, err := m.store.PEPUsage(ctx, own.Local())
	if err != nil {
		return fmt.Errorf("pep: usage of %s: %w", own, err)
	}
	if created && u.Nodes >= m.limits.Nodes {
		m.log.Info("pep: node quota reached", "jid", own.String(), "nodes", u.Nodes)
		return pubsub.ErrTooManyNodes.WithText("an account may have at most " + strconv.Itoa(m.limits.Nodes) + " nodes")
	}
	if !n.PersistItems {
		return nil
	}
	var sizes []store.PEPItemSize
	if !created {
		if sizes, err = m.store.PEPItemSizes(ctx, own.Local(), n.Name); err != nil {
			return fmt.Errorf("pep: item sizes of %s of %s: %w", n.Name, own, err)
		}
	}
	if grown := pubsub.Growth(sizes, id, size, n.MaxItems); grown > 0 && u.Bytes+grown > m.limits.OwnerBytes {
		m.log.Info("pep: storage quota reached", "jid", own.String(), "bytes", u.Bytes)
		return errQuota
	}
	return nil
}

// retract handles §7.2.
func (m *Module) retract(ctx context.Context, own jid.JID, r *xmlstream.Element) error {
	node := r.Get("node")
	if node == "" {
		return pubsub.ErrNodeRequired
	}
	id, notify, err := pubsub.RetractedItem(r)
	if err != nil {
		return err
	}
	n, err := m.node(ctx, own, node)
	if err != nil {
		return err
	}
	defer m.lockOwner(own).Unlock()
	err = m.store.RetractPEPItem(ctx, own.Local(), node, id)
	if errors.Is(err, store.ErrNotFound) {
		return stanza.ErrItemNotFound.WithText("no such item")
	}
	if err != nil {
		return err
	}
	if notify || n.NotifiesRetract() {
		m.notify(ctx, own, n, pubsub.RetractEvent(node, id))
	}
	return nil
}

// mayRead applies a node's access model (XEP-0060 §4.5) to a requester.
func (m *Module) mayRead(ctx context.Context, own, from jid.JID, n pepNode) (bool, error) {
	err := m.access(ctx, own, from, n)
	if _, refused := err.(*stanza.Error); refused {
		return false, nil
	}
	return err == nil, err
}

// access is nil when from may read n (XEP-0060 §4.5), else the stanza
// error that says why (§6.5.9), or an error reading the roster. The
// owner alone is affiliated with a PEP node (XEP-0163 §4.1: the
// whitelist holds the owner); the owner may add members to it and make
// outcasts (§8.9).
func (m *Module) access(ctx context.Context, own, from jid.JID, n pepNode) error {
	if from.Bare() == own {
		return nil
	}
	aff, err := m.affiliation(ctx, own, from, n)
	if err != nil {
		return err
	}
	return m.accessAs(ctx, own, from, n, aff)
}

// accessAs is access for a requester whose affiliation is known.
func (m *Module) accessAs(ctx context.Context, own, from jid.JID, n pepNode, aff string) error {
	if from.Bare() == own {
		return nil
	}
	return pubsub.AccessBy(ctx, m.roster, n.Config, aff, own, from)
}

// items handles §6.5: every item, the newest max_items, or some by id,
// a page at a time: a reply holds at most Limits.ReplyBytes of items, the
// newest that fit, and says with a result set (§6.5.4, XEP-0059) that
// there are more; <set/> in the request pages (before/after an item id,
// or from an index). Only the payloads of the page are read.
func (m *Module) items(ctx context.Context, own, from jid.JID, req, set *xmlstream.Element) (*xmlstream.Element, error) {
	node := req.Get("node")
	if node == "" {
		return nil, pubsub.ErrNodeRequired
	}
	n, err := m.node(ctx, own, node)
	if err != nil {
		return nil, err
	}
	if err := m.readable(ctx, own, from, n); err != nil {
		return nil, err
	}
	rq, err := pubsub.ParseItems(req, set, m.limits.NodeItems)
	if err != nil {
		return nil, err
	}
	if !n.PersistItems {
		return xmlstream.New("pubsub", NS).Add(xmlstream.New("items", NS, "node", node)), nil
	}
	defer m.lockOwner(own).Unlock() // no publish between sizes and payloads
	sizes, err := m.store.PEPItemSizes(ctx, own.Local(), node)
	if err != nil {
		return nil, fmt.Errorf("pep: items of %s of %s: %w", node, own, err)
	}
	return rq.Reply(node, sizes, m.limits.ReplyBytes, func(ids []string) ([]*xmlstream.Element, error) {
		items, err := m.store.PEPItems(ctx, own.Local(), node, ids, 0)
		if err != nil {
			return nil, fmt.Errorf("pep: items of %s of %s: %w", node, own, err)
		}
		out := make([]*xmlstream.Element, 0, len(items))
		for _, it := range items {
			out = append(out, xmlstream.New("item", NS, "id", it.ID).Add(&xmlstream.Element{Raw: it.Payload}))
		}
		return out, nil
	})
}

// readable applies a node's access model to a requester, with the error
// of §6.5.9 when it may not read.
// (§6.5.9.6-8: presence-subscription-required, not-in-roster-group,
// closed-node).
func (m *Module) readable(ctx context.Context, own, from jid.JID, n pepNode) error {
	return m.access(ctx, own, from, n)
}

// notify sends an event to the available resources, with non-negative
// priority, of the owner and of contacts subscribed to the owner's
// presence that may read the node (open and presence nodes: all but
// outcasts; roster nodes: those in an allowed group; whitelist nodes:
// members), that asked for the node's notifications in their entity
// capabilities (XEP-0163 §4.2, §4.3.2; the owner's resources are
// filtered too, §4 item 3).
func (m *Module) notify(ctx context.Context, own jid.JID, n pepNode, ev *xmlstream.Element) {
	to := []jid.JID{own}
	if m.roster != nil {
		affs, err := m.affiliations(ctx, own, n)
		if err != nil {
			m.log.Error("pep: affiliations for notifications", "jid", own.String(), "err", err)
		}
		subs, _, err := m.roster.Audience(ctx, own)
		if err != nil {
			m.log.Error("pep: roster for notifications", "jid", own.String(), "err", err)
		}
		for _, s := range subs {
			aff := affs[s.String()]
			switch {
			case aff == store.AffiliationOutcast:
				continue // §4.1: nothing for an outcast
			case n.AccessModel == store.AccessOpen || n.AccessModel == store.AccessPresence:
				// The audience are the owner's presence subscribers.
			case aff == store.AffiliationMember:
			case n.AccessModel == store.AccessRoster:
				if err := m.accessAs(ctx, own, s, n, store.AffiliationNone); err != nil {
					continue
				}
			default:
				continue // whitelist: members only
			}
			to = append(to, s)
		}
	}
	sent := map[jid.JID]bool{}
	for _, bare := range to {
		if !m.router.IsLocal(bare) {
			for _, full := range m.remoteWanting(bare, n.Name) {
				m.send(ctx, own, full, ev)
				sent[full] = true
			}
			continue
		}
		m.sendWanting(ctx, own, bare, n.Name, ev, sent)
	}
	m.notifySubscribers(ctx, own, n, ev, sent)
}

// sendWanting sends ev to the available resources of a local bare JID,
// with non-negative priority, that asked for the node's notifications
// (XEP-0163 §4.2), and notes them in sent.
func (m *Module) sendWanting(ctx context.Context, own, bare jid.JID, node string, ev *xmlstream.Element, sent map[jid.JID]bool) {
	for _, r := range m.router.Resources(bare) {
		full := r.Session.JID()
		if r.Available && r.Priority >= 0 && m.wants(full, node) {
			m.send(ctx, own, full, ev)
			sent[full] = true
		}
	}
}
