package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"parley/internal/dataform"
	"parley/internal/jid"
	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// pubsub serves the requests of the pubsub namespace (§5.6, §5.7, §6,
// §7, §8.1).
func (m *Module) pubsub(ctx context.Context, iq *stanza.Stanza, p *xmlstream.Element, deferred *[]*stanza.Stanza) (*xmlstream.Element, error) {
	a := action(p, NS, "publish-options", "configure", "options")
	if a == nil { // §6.3: options alone are the request
		a = p.Child("options", NS)
	}
	if a == nil {
		return nil, stanza.ErrBadRequest.WithText("no pubsub action")
	}
	from := iq.From
	switch {
	case iq.Type == "set" && a.Name == "create":
		return m.create(ctx, from, a, p.Child("configure", NS))
	case iq.Type == "set" && a.Name == "publish":
		return m.publish(ctx, from, a, p.Child("publish-options", NS))
	case iq.Type == "set" && a.Name == "retract":
		return nil, m.retract(ctx, from, a)
	case iq.Type == "get" && a.Name == "items":
		return m.items(ctx, from, a, p.Child("set", rsm.NS))
	case iq.Type == "set" && a.Name == "subscribe":
		return m.subscribe(ctx, from, a, p.Child("options", NS), deferred)
	case iq.Type == "set" && a.Name == "unsubscribe":
		return nil, m.unsubscribe(ctx, from, a)
	case a.Name == "options":
		return m.options(ctx, iq, a)
	case iq.Type == "get" && a.Name == "subscriptions":
		return m.ownSubscriptions(ctx, from, a.Get("node"))
	case iq.Type == "get" && a.Name == "affiliations":
		return m.ownAffiliations(ctx, from, a.Get("node"))
	case iq.Type == "get" && a.Name == "default":
		return m.defaultOptions(), nil
	}
	return nil, Unsupported(a.Name)
}

// create handles §8.1: a named or instant node (§8.1.2), with or without
// a configuration form (§8.1.3).
func (m *Module) create(ctx context.Context, from jid.JID, c, configure *xmlstream.Element) (*xmlstream.Element, error) {
	name := c.Get("node")
	instant := name == ""
	if instant {
		name = stanza.NewID()
	}
	cfg := defaultConfig()
	if configure != nil {
		if x := configure.Child("x", dataform.NS); x != nil {
			if err := cfg.Apply(x, NSNodeConfig, m.limits.NodeItems); err != nil {
				return nil, err
			}
		}
	}
	defer m.lockNode(name).Unlock()
	if _, err := m.createNode(ctx, from, name, cfg); err != nil {
		return nil, err
	}
	if instant {
		return xmlstream.New("pubsub", NS).Add(xmlstream.New("create", NS, "node", name)), nil
	}
	return nil, nil
}

// mayPublish applies the publish model (§7.1.3.1).
func (m *Module) mayPublish(ctx context.Context, n *node, from jid.JID) error {
	switch aff := n.affiliation(from); {
	case aff == store.AffiliationOutcast:
		return stanza.ErrForbidden
	case aff == store.AffiliationOwner || aff == store.AffiliationPublisher || aff == store.AffiliationPubOnly:
		return nil
	}
	switch n.publishModel() {
	case PublishOpen:
		return nil
	case PublishSubscribers:
		ok, err := m.subscribed(ctx, n, from)
		if err != nil || ok {
			return err
		}
	}
	return stanza.ErrForbidden.WithText("the node's publish model does not let you publish")
}

// publish handles §7.1: one item to an existing node, or to one created
// for it (§7.1.4) with the publish-options, which for an existing node
// are preconditions (§7.1.5).
func (m *Module) publish(ctx context.Context, from jid.JID, pub, opts *xmlstream.Element) (*xmlstream.Element, error) {
	name := pub.Get("node")
	if name == "" {
		return nil, ErrNodeRequired
	}
	item, raw, err := m.onePayload(pub)
	if err != nil {
		return nil, err
	}
	var x *xmlstream.Element
	if opts != nil {
		x = opts.Child("x", dataform.NS)
	}
	id := item.Get("id")
	if id == "" {
		id = stanza.NewID()
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	switch {
	case errors.Is(err, ErrNoNode):
		cfg := defaultConfig()
		if x != nil {
			if err := cfg.Apply(x, NSPublishOptions, m.limits.NodeItems); err != nil {
				return nil, err
			}
		}
		if n, err = m.createNode(ctx, from, name, cfg); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if err := m.mayPublish(ctx, n, from); err != nil {
			return nil, err
		}
		if x != nil {
			want := n.Config
			if err := want.Apply(x, NSPublishOptions, m.limits.NodeItems); err != nil {
				return nil, err
			}
			if !want.Equal(n.Config) {
				return nil, ErrPrecondition.WithText("the node's configuration differs from the publish-options")
			}
		}
	}
	it := store.PubSubItem{ID: id, Publisher: from.Bare().String(), Payload: raw}
	if n.PersistItems {
		if err := m.store.PublishPubSubItem(ctx, m.jid.String(), name, it); err != nil {
			return nil, fmt.Errorf("pubsub: publish to %s: %w", name, err)
		}
	}
	m.notify(ctx, n, xmlstream.New("items", NSEvent, "node", name).Add(itemEvent(it)))
	return xmlstream.New("pubsub", NS).Add(
		xmlstream.New("publish", NS, "node", name).Add(xmlstream.New("item", NS, "id", id))), nil
}

// onePayload is the one item of a publish and its payload serialised
// (§7.1.3.6 payload-too-big, §7.1.3.4 invalid-payload for more than one).
func (m *Module) onePayload(pub *xmlstream.Element) (*xmlstream.Element, []byte, error) {
	var item *xmlstream.Element
	for _, c := range pub.Children {
		if c.Name == "item" && c.Space == NS {
			if item != nil {
				return nil, nil, ErrTooMany.WithText("one item per publish")
			}
			item = c
		}
	}
	if item == nil {
		return nil, nil, ErrItemRequired
	}
	payload := item.FirstChild()
	if payload == nil {
		return nil, nil, ErrPayload
	}
	raw := xmlstream.Append(nil, payload)
	if len(raw) > m.limits.ItemBytes {
		return nil, nil, ErrTooBig.WithText("the payload is larger than " + strconv.Itoa(m.limits.ItemBytes) + " bytes")
	}
	return item, raw, nil
}

func itemEvent(it store.PubSubItem) *xmlstream.Element {
	return xmlstream.New("item", NSEvent, "id", it.ID, "publisher", it.Publisher).Add(&xmlstream.Element{Raw: it.Payload})
}

// retract handles §7.2: owners and publishers retract any item, a
// publish-only entity or one of an open node its own.
func (m *Module) retract(ctx context.Context, from jid.JID, r *xmlstream.Element) error {
	name := r.Get("node")
	it := r.Child("item", NS)
	if it == nil || it.Get("id") == "" {
		return ErrItemRequired
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	if err != nil {
		return err
	}
	id := it.Get("id")
	aff := n.affiliation(from)
	if aff != store.AffiliationOwner && aff != store.AffiliationPublisher {
		items, err := m.store.PubSubItems(ctx, m.jid.String(), name, []string{id}, 0)
		if err != nil {
			return err
		}
		if len(items) == 0 || items[0].Publisher != from.Bare().String() || m.mayPublish(ctx, n, from) != nil {
			return stanza.ErrForbidden.WithText("you may not retract this item")
		}
	}
	err = m.store.RetractPubSubItem(ctx, m.jid.String(), name, id)
	if errors.Is(err, store.ErrNotFound) {
		return stanza.ErrItemNotFound.WithText("no such item")
	}
	if err != nil {
		return err
	}
	if v := r.Get("notify"); v == "true" || v == "1" {
		m.notify(ctx, n, xmlstream.New("items", NSEvent, "node", name).Add(xmlstream.New("retract", NSEvent, "id", id)))
	}
	return nil
}

// items handles §6.5: all, by id, the newest max_items, paged within
// Limits.ReplyBytes (§6.5.4, XEP-0059), as the access model allows.
func (m *Module) items(ctx context.Context, from jid.JID, req, set *xmlstream.Element) (*xmlstream.Element, error) {
	name := req.Get("node")
	n, err := m.load(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := m.access(ctx, n, from); err != nil {
		return nil, err
	}
	limit := 0
	if v := req.Get("max_items"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return nil, stanza.ErrBadRequest.WithText("max_items must be a positive integer")
		}
	}
	want := map[string]bool{}
	for _, c := range req.Children {
		if c.Name == "item" && c.Space == NS && c.Get("id") != "" {
			want[c.Get("id")] = true
		}
	}
	rq, err := rsm.Parse(set, rsm.Limits{Max: m.limits.NodeItems})
	if err != nil {
		return nil, err
	}
	out := xmlstream.New("items", NS, "node", name)
	res := xmlstream.New("pubsub", NS).Add(out)
	defer m.lockNode(name).Unlock() // no publish between sizes and payloads
	sizes, err := m.store.PubSubItemSizes(ctx, m.jid.String(), name)
	if err != nil {
		return nil, err
	}
	sel := sizes
	if len(want) > 0 {
		sel = nil
		for _, it := range sizes {
			if want[it.ID] {
				sel = append(sel, it)
			}
		}
	} else if limit > 0 && limit < len(sel) {
		sel = sel[len(sel)-limit:]
	}
	first, last, err := Page(sel, rq, m.limits.ReplyBytes)
	if err != nil {
		return nil, err
	}
	if first < last {
		ids := make([]string, 0, last-first)
		for _, it := range sel[first:last] {
			ids = append(ids, it.ID)
		}
		items, err := m.store.PubSubItems(ctx, m.jid.String(), name, ids, 0)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out.Add(xmlstream.New("item", NS, "id", it.ID, "publisher", it.Publisher).Add(&xmlstream.Element{Raw: it.Payload}))
		}
	}
	if set != nil || last-first < len(sel) {
		rep := rsm.Reply{FirstIndex: -1, Count: len(sel)}
		if first < last {
			rep.First, rep.FirstIndex, rep.Last = sel[first].ID, first, sel[last-1].ID
		}
		res.Add(rep.Element())
	}
	return res, nil
}

// SubOptions are a subscription's options (§6.3, pubsub#subscribe_options).
type SubOptions struct {
	// NoDeliver is pubsub#deliver false: the subscriber gets no
	// notifications for now.
	NoDeliver bool `json:"no_deliver,omitempty"`
}

func (o SubOptions) marshal() []byte {
	b, _ := json.Marshal(o)
	return b
}

func (o SubOptions) form(typ string) *xmlstream.Element {
	return dataform.New(typ, NSSubscribeOpts,
		dataform.NewField("pubsub#deliver", dataform.Boolean, "Receive notifications", dataform.BoolValue(!o.NoDeliver))).Element()
}

// apply changes o by a submitted subscribe_options form (§6.3.5); unknown
// fields are ignored.
func (o *SubOptions) apply(x *xmlstream.Element) error {
	f, err := dataform.Parse(x, FormLimits)
	if err != nil {
		return err
	}
	if f.Has(dataform.FormType) && f.FormType() != NSSubscribeOpts {
		return stanza.ErrBadRequest.WithText("FORM_TYPE must be " + NSSubscribeOpts)
	}
	if f.Has("pubsub#deliver") {
		d, err := f.Bool("pubsub#deliver")
		if err != nil {
			return err
		}
		o.NoDeliver = !d
	}
	return nil
}

// subscriber is the jid attribute of a subscription request, which must
// be the requester's bare or full JID (§6.1.3.1).
func subscriber(from jid.JID, a *xmlstream.Element) (jid.JID, error) {
	j, err := jid.Parse(a.Get("jid"))
	if err != nil || a.Get("jid") == "" || j.Bare() != from.Bare() {
		return jid.JID{}, Error(stanza.ErrBadRequest, "invalid-jid")
	}
	return j, nil
}

// subscribe handles §6.1: a subscription, pending an owner's approval
// under the authorize model (§6.1.2, §8.6), with options (§6.3.7); the
// last item follows the result (§6.1.7).
func (m *Module) subscribe(ctx context.Context, from jid.JID, a, opts *xmlstream.Element, deferred *[]*stanza.Stanza) (*xmlstream.Element, error) {
	name := a.Get("node")
	if name == "" {
		return nil, ErrNodeRequired
	}
	who, err := subscriber(from, a)
	if err != nil {
		return nil, err
	}
	var o SubOptions
	if opts != nil {
		if x := opts.Child("x", dataform.NS); x != nil {
			if err := o.apply(x); err != nil {
				return nil, err
			}
		}
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	if err != nil {
		return nil, err
	}
	state := store.SubscriptionSubscribed
	aff := n.affiliation(from)
	if n.AccessModel == AccessAuthorize && !isAffiliated(aff) {
		if aff == store.AffiliationOutcast {
			return nil, stanza.ErrForbidden
		}
		state = store.SubscriptionPending
	} else if err := m.access(ctx, n, from); err != nil {
		return nil, err
	}
	subs, err := m.store.PubSubSubscriptions(ctx, m.jid.String(), name)
	if err != nil {
		return nil, err
	}
	// §6.1.6: one subscription per JID; asking again returns it.
	sub := store.PubSubSubscription{JID: who.String(), SubID: stanza.NewID(), State: state, Options: o.marshal()}
	existing := false
	for _, s := range subs {
		if s.JID == who.String() {
			sub, existing = s, true
			if opts != nil {
				sub.Options = o.marshal()
			}
			break
		}
	}
	if !existing || opts != nil {
		if err := m.store.PutPubSubSubscription(ctx, m.jid.String(), name, sub); err != nil {
			return nil, err
		}
	}
	switch {
	case sub.State == store.SubscriptionPending && !existing:
		*deferred = append(*deferred, m.approvalRequests(n, who, sub.SubID)...)
	case sub.State == store.SubscriptionSubscribed && !existing && n.PersistItems:
		if last, err := m.store.PubSubItems(ctx, m.jid.String(), name, nil, 1); err == nil && len(last) == 1 {
			*deferred = append(*deferred, m.event(who, xmlstream.New("items", NSEvent, "node", name).Add(itemEvent(last[0])),
				m.delay(last[0])))
		}
	}
	return xmlstream.New("pubsub", NS).Add(subscriptionElement(NS, name, sub)), nil
}

func subscriptionElement(space, node string, s store.PubSubSubscription) *xmlstream.Element {
	return xmlstream.New("subscription", space, "node", node, "jid", s.JID, "subid", s.SubID, "subscription", s.State)
}

// mine finds from's subscription to a node by JID and optional subid
// (§6.2.3: not-subscribed, subid-required, invalid-subid).
func (m *Module) mine(ctx context.Context, name string, who jid.JID, subid string) (store.PubSubSubscription, error) {
	subs, err := m.store.PubSubSubscriptions(ctx, m.jid.String(), name)
	if err != nil {
		return store.PubSubSubscription{}, err
	}
	var found []store.PubSubSubscription
	for _, s := range subs {
		if s.JID == who.String() {
			if subid != "" && s.SubID == subid {
				return s, nil
			}
			found = append(found, s)
		}
	}
	switch {
	case len(found) == 0:
		return store.PubSubSubscription{}, Error(stanza.ErrUnexpectedRequest, "not-subscribed")
	case subid != "":
		return store.PubSubSubscription{}, Error(stanza.ErrNotAcceptable, "invalid-subid")
	case len(found) > 1:
		return store.PubSubSubscription{}, Error(stanza.ErrBadRequest, "subid-required")
	}
	return found[0], nil
}

// unsubscribe handles §6.2.
func (m *Module) unsubscribe(ctx context.Context, from jid.JID, a *xmlstream.Element) error {
	name := a.Get("node")
	if name == "" {
		return ErrNodeRequired
	}
	who, err := jid.Parse(a.Get("jid"))
	if err != nil || a.Get("jid") == "" {
		return Error(stanza.ErrBadRequest, "invalid-jid")
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	if err != nil {
		return err
	}
	if who.Bare() != from.Bare() && n.affiliation(from) != store.AffiliationOwner {
		return stanza.ErrForbidden // §6.2.3.3
	}
	s, err := m.mine(ctx, name, who, a.Get("subid"))
	if err != nil {
		return err
	}
	return m.store.DeletePubSubSubscription(ctx, m.jid.String(), name, s.JID, s.SubID)
}

// options handles §6.3: a subscription's options, got or set.
func (m *Module) options(ctx context.Context, iq *stanza.Stanza, a *xmlstream.Element) (*xmlstream.Element, error) {
	name := a.Get("node")
	if name == "" {
		return nil, ErrNodeRequired
	}
	who, err := jid.Parse(a.Get("jid"))
	if err != nil || a.Get("jid") == "" {
		return nil, Error(stanza.ErrBadRequest, "jid-required")
	}
	if who.Bare() != iq.From.Bare() {
		return nil, stanza.ErrForbidden // §6.3.4.2
	}
	defer m.lockNode(name).Unlock()
	if _, err := m.load(ctx, name); err != nil {
		return nil, err
	}
	s, err := m.mine(ctx, name, who, a.Get("subid"))
	if err != nil {
		return nil, err
	}
	var o SubOptions
	if err := json.Unmarshal(s.Options, &o); err != nil && len(s.Options) > 0 {
		return nil, err
	}
	if iq.Type == "get" {
		return xmlstream.New("pubsub", NS).Add(xmlstream.New("options", NS, "node", name, "jid", s.JID, "subid", s.SubID).Add(o.form("form"))), nil
	}
	x := a.Child("x", dataform.NS)
	if x == nil {
		return nil, stanza.ErrBadRequest.WithText("expected a submitted subscribe_options form")
	}
	if err := o.apply(x); err != nil {
		return nil, err
	}
	s.Options = o.marshal()
	return nil, m.store.PutPubSubSubscription(ctx, m.jid.String(), name, s)
}

// defaultOptions answers §6.4: the default subscription options.
func (m *Module) defaultOptions() *xmlstream.Element {
	return xmlstream.New("pubsub", NS).Add(xmlstream.New("default", NS).Add(SubOptions{}.form("form")))
}

// ownSubscriptions answers §5.6: the requester's subscriptions.
func (m *Module) ownSubscriptions(ctx context.Context, from jid.JID, node string) (*xmlstream.Element, error) {
	subs, err := m.store.PubSubSubscriptions(ctx, m.jid.String(), node)
	if err != nil {
		return nil, err
	}
	out := xmlstream.New("subscriptions", NS)
	for _, s := range subs {
		if j, err := jid.Parse(s.JID); err == nil && j.Bare() == from.Bare() {
			out.Add(subscriptionElement(NS, s.Node, s))
		}
	}
	return xmlstream.New("pubsub", NS).Add(out), nil
}

// ownAffiliations answers §5.7: the requester's affiliations.
func (m *Module) ownAffiliations(ctx context.Context, from jid.JID, node string) (*xmlstream.Element, error) {
	affs, err := m.store.PubSubAffiliations(ctx, m.jid.String(), node)
	if err != nil {
		return nil, err
	}
	out := xmlstream.New("affiliations", NS)
	for _, a := range affs {
		if a.JID == from.Bare().String() {
			out.Add(xmlstream.New("affiliation", NS, "node", a.Node, "affiliation", a.Affiliation))
		}
	}
	return xmlstream.New("pubsub", NS).Add(out), nil
}
