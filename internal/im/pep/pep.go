package pep

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces.
const (
	NS               = "http://jabber.org/protocol/pubsub"
	NSOwner          = NS + "#owner"
	NSEvent          = NS + "#event"
	NSErrors         = NS + "#errors"
	NSPublishOptions = NS + "#publish-options"
	NSNodeConfig     = NS + "#node_config"
	NSData           = "jabber:x:data"
)

// MaxItems is the most items a node keeps ("max" in max_items).
const MaxItems = 1000

// Store is the storage the service needs.
type Store = store.PEP

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
}

// Module is the PEP service of every local account.
type Module struct {
	store  Store
	router Router
	roster Roster
	log    *slog.Logger

	// DiscoTimeout bounds the wait for a disco#info answer (XEP-0115
	// §6.2); zero means the package's DiscoTimeout. Set before use.
	DiscoTimeout time.Duration
	// Blocks, if set, reports whether a local user has blocked a JID
	// (XEP-0191). Events go straight to sessions, past the router's
	// interceptors, so the service asks itself (XEP-0163 §4.3.3). Set
	// before use.
	Blocks func(ctx context.Context, user string, j jid.JID) (bool, error)

	caps      *capsCache
	interests interestTable

	// ownerMu serialises, per owner (striped by seed), changing a node's
	// items with sending the events about them: a session never gets an
	// older item after a newer one, and a last item read while a publish
	// is under way waits for it (XEP-0163 §4.3.4).
	ownerMu [64]sync.Mutex
	seed    maphash.Seed

	// ctx ends the caps lookups (discover goroutines, counted by wg) at
	// Close.
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// New returns the service; install it with Register and its presence
// hooks (Available, Unavailable), and Close it at shutdown.
func New(r Router, s Store, roster Roster, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	m := &Module{store: s, router: r, roster: roster, log: log, caps: newCapsCache(maxCaps), seed: maphash.MakeSeed()}
	m.interests.sessions = make(map[jid.JID]*interest)
	m.interests.waiting = make(map[string][]jid.JID)
	m.ctx, m.stop = context.WithCancel(context.Background())
	return m
}

// Register installs the pubsub and pubsub#owner IQ handlers.
func (m *Module) Register(r *router.Router) {
	r.HandleIQ(NS, m.HandleIQ)
	r.HandleIQ(NSOwner, m.HandleOwnerIQ)
}

// Features are the account's disco#info features (XEP-0163 §6.1, XEP-0060
// §10; publish-options as XEP-0223 asks).
func Features() []string {
	f := []string{NS, NS + "#publish-options"}
	for _, v := range []string{"publish", "auto-create", "persistent-items", "retrieve-items",
		"retract-items", "delete-nodes", "config-node", "access-open", "access-presence",
		"access-whitelist", "item-ids", "multi-items", "last-published",
		"auto-subscribe", "filtered-notifications", "presence-notifications"} {
		f = append(f, NS+"#"+v)
	}
	return f
}

// lockOwner takes the event lock of an owner; the caller unlocks it.
func (m *Module) lockOwner(own jid.JID) *sync.Mutex {
	mu := &m.ownerMu[maphash.String(m.seed, own.Local())%uint64(len(m.ownerMu))]
	mu.Lock()
	return mu
}

// pubsubError is a stanza error with a pubsub#errors condition (XEP-0060
// §7.1.3 and elsewhere).
func pubsubError(base *stanza.Error, cond string) *stanza.Error {
	e := *base
	e.App = xmlstream.New(cond, NSErrors)
	return &e
}

var (
	errNodeRequired = pubsubError(stanza.ErrBadRequest, "nodeid-required")
	errItemRequired = pubsubError(stanza.ErrBadRequest, "item-required")
	errPayload      = pubsubError(stanza.ErrBadRequest, "payload-required")
	errTooMany      = pubsubError(stanza.ErrBadRequest, "invalid-payload")
	errPrecondition = pubsubError(&stanza.Error{Type: "cancel", Condition: "conflict"}, "precondition-not-met")
	errOwnerOnly    = stanza.ErrForbidden.WithText("only the account's owner may do this")
	errNoNode       = stanza.ErrItemNotFound.WithText("no such node")
)

func unsupported(feature string) *stanza.Error {
	e := pubsubError(stanza.ErrFeatureNotImplemented, "unsupported")
	e.App.Attr = append(e.App.Attr, xmlstream.Attr{Name: "feature", Value: feature})
	return e
}

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
	var action *xmlstream.Element
	for _, c := range ps.Children {
		if c.Space == NS && c.Name != "publish-options" {
			action = c
			break
		}
	}
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
		return m.items(ctx, own, iq.From, action)
	}
	return nil, unsupported(action.Name)
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
	var action *xmlstream.Element
	for _, c := range iq.Payload().Children {
		if c.Space == NSOwner {
			action = c
			break
		}
	}
	if action == nil {
		return nil, stanza.ErrBadRequest.WithText("no pubsub#owner action")
	}
	node := action.Get("node")
	if node == "" {
		return nil, errNodeRequired
	}
	switch {
	case action.Name == "configure" && iq.Type == "get":
		n, err := m.node(ctx, own, node)
		if err != nil {
			return nil, err
		}
		return xmlstream.New("pubsub", NSOwner).Add(
			xmlstream.New("configure", NSOwner, "node", node).Add(configForm(n, "form"))), nil
	case action.Name == "configure" && iq.Type == "set":
		n, err := m.node(ctx, own, node)
		if err != nil {
			return nil, err
		}
		x := action.Child("x", NSData)
		if x == nil || x.Get("type") != "submit" {
			return nil, stanza.ErrBadRequest.WithText("expected a submitted node_config form")
		}
		if err := applyForm(&n, x, NSNodeConfig); err != nil {
			return nil, err
		}
		return nil, m.store.PutPEPNode(ctx, own.Local(), n)
	case action.Name == "delete" && iq.Type == "set":
		defer m.lockOwner(own).Unlock()
		err := m.store.DeletePEPNode(ctx, own.Local(), node)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoNode
		}
		if err != nil {
			return nil, err
		}
		ev := xmlstream.New("event", NSEvent).Add(xmlstream.New("delete", NSEvent, "node", node))
		m.notify(ctx, own, store.PEPNode{Node: node, AccessModel: store.AccessWhitelist}, ev)
		return nil, nil
	}
	return nil, unsupported(action.Name)
}

// node loads a node; errNoNode if there is none.
func (m *Module) node(ctx context.Context, own jid.JID, node string) (store.PEPNode, error) {
	n, err := m.store.PEPNode(ctx, own.Local(), node)
	if errors.Is(err, store.ErrNotFound) {
		return n, errNoNode
	}
	return n, err
}

// defaultNode is a node created by a publish without options (XEP-0163
// §4.2: access model presence; items persist; one item kept).
func defaultNode(node string) store.PEPNode {
	return store.PEPNode{Node: node, AccessModel: store.AccessPresence, PersistItems: true, MaxItems: 1}
}

// publish handles §7.1: one item, auto-creating the node with the
// publish-options, or checking them against the existing node (§7.1.5).
func (m *Module) publish(ctx context.Context, own jid.JID, pub, opts *xmlstream.Element) (*xmlstream.Element, error) {
	node := pub.Get("node")
	if node == "" {
		return nil, errNodeRequired
	}
	var item *xmlstream.Element
	for _, c := range pub.Children {
		if c.Name == "item" && c.Space == NS {
			if item != nil {
				return nil, errTooMany.WithText("one item per publish")
			}
			item = c
		}
	}
	if item == nil {
		return nil, errItemRequired
	}
	payload := item.FirstChild()
	if payload == nil {
		return nil, errPayload
	}
	var x *xmlstream.Element
	if opts != nil {
		x = opts.Child("x", NSData)
	}
	n, err := m.store.PEPNode(ctx, own.Local(), node)
	switch {
	case errors.Is(err, store.ErrNotFound):
		n = defaultNode(node)
		if x != nil {
			if err := applyForm(&n, x, NSPublishOptions); err != nil {
				return nil, err
			}
		}
		if err := m.store.PutPEPNode(ctx, own.Local(), n); err != nil {
			return nil, fmt.Errorf("pep: create %s of %s: %w", node, own, err)
		}
	case err != nil:
		return nil, err
	case x != nil:
		want := n
		if err := applyForm(&want, x, NSPublishOptions); err != nil {
			return nil, err
		}
		if want != n {
			return nil, errPrecondition.WithText("the node's configuration differs from the publish-options")
		}
	}
	id := item.Get("id")
	if id == "" {
		id = stanza.NewID()
	}
	raw := xmlstream.Append(nil, payload) // declares its namespace
	defer m.lockOwner(own).Unlock()
	if n.PersistItems {
		if err := m.store.PublishPEPItem(ctx, own.Local(), node, store.PEPItem{ID: id, Payload: raw}); err != nil {
			return nil, fmt.Errorf("pep: publish to %s of %s: %w", node, own, err)
		}
	}
	ev := xmlstream.New("event", NSEvent).Add(xmlstream.New("items", NSEvent, "node", node).Add(
		xmlstream.New("item", NSEvent, "id", id, "publisher", own.String()).Add(&xmlstream.Element{Raw: raw})))
	m.notify(ctx, own, n, ev)
	return xmlstream.New("pubsub", NS).Add(
		xmlstream.New("publish", NS, "node", node).Add(xmlstream.New("item", NS, "id", id))), nil
}

// retract handles §7.2.
func (m *Module) retract(ctx context.Context, own jid.JID, r *xmlstream.Element) error {
	node := r.Get("node")
	if node == "" {
		return errNodeRequired
	}
	it := r.Child("item", NS)
	if it == nil || it.Get("id") == "" {
		return errItemRequired
	}
	n, err := m.node(ctx, own, node)
	if err != nil {
		return err
	}
	defer m.lockOwner(own).Unlock()
	err = m.store.RetractPEPItem(ctx, own.Local(), node, it.Get("id"))
	if errors.Is(err, store.ErrNotFound) {
		return stanza.ErrItemNotFound.WithText("no such item")
	}
	if err != nil {
		return err
	}
	if v := r.Get("notify"); v == "true" || v == "1" {
		ev := xmlstream.New("event", NSEvent).Add(xmlstream.New("items", NSEvent, "node", node).Add(
			xmlstream.New("retract", NSEvent, "id", it.Get("id"))))
		m.notify(ctx, own, n, ev)
	}
	return nil
}

// mayRead applies a node's access model (XEP-0060 §4.5) to a requester.
func (m *Module) mayRead(ctx context.Context, own, from jid.JID, n store.PEPNode) (bool, error) {
	if from.Bare() == own {
		return true, nil
	}
	switch n.AccessModel {
	case store.AccessOpen:
		return true, nil
	case store.AccessPresence, store.AccessRoster:
		if m.roster == nil {
			return false, nil
		}
		it, ok, err := m.roster.Item(ctx, own, from.Bare())
		if err != nil {
			return false, err
		}
		return ok && (it.Subscription == store.SubFrom || it.Subscription == store.SubBoth), nil
	}
	return false, nil // whitelist: the owner alone
}

// items handles §6.5: every item, the newest max_items, or some by id.
func (m *Module) items(ctx context.Context, own, from jid.JID, req *xmlstream.Element) (*xmlstream.Element, error) {
	node := req.Get("node")
	if node == "" {
		return nil, errNodeRequired
	}
	n, err := m.node(ctx, own, node)
	if err != nil {
		return nil, err
	}
	ok, err := m.mayRead(ctx, own, from, n)
	if err != nil {
		return nil, err
	}
	if !ok {
		// §6.5.3/§6.5.6: presence-model nodes answer not-authorized with
		// presence-subscription-required; whitelist nodes not-allowed.
		if n.AccessModel == store.AccessWhitelist {
			return nil, pubsubError(&stanza.Error{Type: "cancel", Condition: "not-allowed"}, "closed-node")
		}
		return nil, pubsubError(&stanza.Error{Type: "auth", Condition: "not-authorized"}, "presence-subscription-required")
	}
	limit := 0
	if v := req.Get("max_items"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return nil, stanza.ErrBadRequest.WithText("max_items must be a positive integer")
		}
	}
	var ids []string
	for _, c := range req.Children {
		if c.Name == "item" && c.Space == NS && c.Get("id") != "" {
			ids = append(ids, c.Get("id"))
		}
	}
	out := xmlstream.New("items", NS, "node", node)
	if n.PersistItems {
		items, err := m.store.PEPItems(ctx, own.Local(), node, ids, limit)
		if err != nil {
			return nil, fmt.Errorf("pep: items of %s of %s: %w", node, own, err)
		}
		for _, it := range items {
			out.Add(xmlstream.New("item", NS, "id", it.ID).Add(&xmlstream.Element{Raw: it.Payload}))
		}
	}
	return xmlstream.New("pubsub", NS).Add(out), nil
}

// notify sends an event to the available resources, with non-negative
// priority, of the owner and, for open and presence nodes, of contacts
// subscribed to the owner's presence, that asked for the node's
// notifications in their entity capabilities (XEP-0163 §4.2, §4.3.2; the
// owner's resources are filtered too, §4 item 3).
func (m *Module) notify(ctx context.Context, own jid.JID, n store.PEPNode, ev *xmlstream.Element) {
	to := []jid.JID{own}
	if n.AccessModel != store.AccessWhitelist && m.roster != nil {
		subs, _, err := m.roster.Audience(ctx, own)
		if err != nil {
			m.log.Error("pep: roster for notifications", "jid", own.String(), "err", err)
		}
		to = append(to, subs...)
	}
	for _, bare := range to {
		for _, r := range m.router.Resources(bare) {
			full := r.Session.JID()
			if r.Available && r.Priority >= 0 && m.wants(full, n.Node) {
				m.send(ctx, own, full, ev)
			}
		}
	}
}

// configForm is a node's configuration as a data form (§8.2).
func configForm(n store.PEPNode, typ string) *xmlstream.Element {
	x := xmlstream.New("x", NSData, "type", typ)
	field := func(v, t, val string) *xmlstream.Element {
		return xmlstream.New("field", NSData, "var", v, "type", t).Add(xmlstream.NewText("value", NSData, val))
	}
	persist := "0"
	if n.PersistItems {
		persist = "1"
	}
	return x.Add(field("FORM_TYPE", "hidden", NSNodeConfig),
		field("pubsub#access_model", "list-single", n.AccessModel),
		field("pubsub#persist_items", "boolean", persist),
		field("pubsub#max_items", "text-single", strconv.Itoa(n.MaxItems)))
}

// applyForm changes n by a submitted node_config or publish-options form
// (§7.1.5, §8.2.4). Fields the service has no setting for are accepted
// when they ask for its behaviour (send_last_published_item, notify_*)
// and otherwise ignored, as Prosody and ejabberd do.
func applyForm(n *store.PEPNode, x *xmlstream.Element, formType string) error {
	for _, f := range x.Children {
		if f.Name != "field" || f.Space != NSData {
			continue
		}
		val := strings.TrimSpace(f.ChildText("value", NSData))
		switch f.Get("var") {
		case "FORM_TYPE":
			if val != formType && val != NSNodeConfig {
				return stanza.ErrBadRequest.WithText("FORM_TYPE must be " + formType)
			}
		case "pubsub#access_model":
			switch val {
			case store.AccessOpen, store.AccessPresence, store.AccessWhitelist:
				n.AccessModel = val
			case store.AccessRoster:
				// Roster groups are not kept per node: the closest
				// model that reveals no more is presence.
				n.AccessModel = store.AccessPresence
			default:
				return errPrecondition.WithText("unsupported access model " + val)
			}
		case "pubsub#persist_items":
			switch val {
			case "1", "true":
				n.PersistItems = true
			case "0", "false":
				n.PersistItems = false
			default:
				return stanza.ErrBadRequest.WithText("pubsub#persist_items must be a boolean")
			}
		case "pubsub#max_items":
			if val == "max" {
				n.MaxItems = MaxItems
				break
			}
			v, err := strconv.Atoi(val)
			if err != nil || v < 1 {
				return stanza.ErrBadRequest.WithText("pubsub#max_items must be a positive integer or max")
			}
			n.MaxItems = min(v, MaxItems)
		}
	}
	return nil
}
