package pubsub

import (
	"context"
	"errors"
	"fmt"

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
	a := Action(p, NS, "publish-options", "configure", "options")
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
		return nil, m.unsubscribe(ctx, from, a, deferred)
	case a.Name == "options":
		return m.options(ctx, iq, a)
	case iq.Type == "get" && a.Name == "subscriptions":
		return m.OwnSubscriptions(ctx, from, a.Get("node"))
	case iq.Type == "get" && a.Name == "affiliations":
		return m.OwnAffiliations(ctx, from, a.Get("node"))
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
	id, raw, err := m.limits.PublishedItem(pub)
	if err != nil {
		return nil, err
	}
	var x *xmlstream.Element
	if opts != nil {
		x = opts.Child("x", dataform.NS)
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
			if err := n.Preconditions(x, m.limits.NodeItems); err != nil {
				return nil, err
			}
		}
	}
	it := store.PubSubItem{ID: id, Publisher: from.Bare().String(), Payload: raw}
	if err := m.withinQuota(ctx, n, id, len(raw)); err != nil {
		return nil, err
	}
	if n.PersistItems {
		if err := m.Store.PublishPubSubItem(ctx, m.Addr.String(), name, it); err != nil {
			return nil, fmt.Errorf("pubsub: publish to %s: %w", name, err)
		}
	}
	m.notify(ctx, n, itemEvent(name, it))
	return xmlstream.New("pubsub", NS).Add(
		xmlstream.New("publish", NS, "node", name).Add(xmlstream.New("item", NS, "id", id))), nil
}

// withinQuota checks that storing an item of size bytes as id keeps
// each owner of n within Limits.OwnerBytes, counting what the publish
// replaces (the same id) and trims (beyond max_items), as PEP does, so
// an owner at its quota can still replace items. The caller holds the
// node's lock.
func (m *Module) withinQuota(ctx context.Context, n *node, id string, size int) error {
	if !n.PersistItems {
		return nil
	}
	sizes, err := m.Store.PubSubItemSizes(ctx, m.Addr.String(), n.Name)
	if err != nil {
		return err
	}
	grown := Growth(sizes, id, size, n.MaxItems)
	if grown <= 0 {
		return nil
	}
	for _, o := range n.owners() {
		used, err := m.Store.PubSubOwnedBytes(ctx, m.Addr.String(), o.String())
		if err != nil {
			return err
		}
		if used+grown > m.limits.OwnerBytes {
			m.log.Info("pubsub: owner's storage quota reached", "jid", o.String(), "node", n.Name, "bytes", used)
			return stanza.ErrPolicyViolation.WithText("the node owner's storage quota is used up")
		}
	}
	return nil
}

// Growth is how many payload bytes a node's items grow by (negative when
// they shrink) when an item of size bytes is stored as id: sizes are the
// node's items as the store lists them, oldest first; the item replaces
// the one with its id, and the store keeps the newest maxItems (at least
// one) and drops the rest. PEP and the service charge their quotas by it.
func Growth(sizes []store.PEPItemSize, id string, size, maxItems int) int64 {
	before, after := int64(0), []int{}
	for _, it := range sizes {
		before += int64(it.Bytes)
		if it.ID != id {
			after = append(after, it.Bytes)
		}
	}
	after = append(after, size)
	after = after[max(0, len(after)-max(maxItems, 1)):] // the store keeps the newest
	grown := -before
	for _, b := range after {
		grown += int64(b)
	}
	return grown
}

func itemEvent(node string, it store.PubSubItem) *xmlstream.Element {
	return ItemEvent(node, it.ID, it.Publisher, it.Payload)
}

// retract handles §7.2: owners and publishers retract any item, a
// publish-only entity or one of an open node its own.
func (m *Module) retract(ctx context.Context, from jid.JID, r *xmlstream.Element) error {
	name := r.Get("node")
	id, notify, err := RetractedItem(r)
	if err != nil {
		return err
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	if err != nil {
		return err
	}
	aff := n.affiliation(from)
	if aff != store.AffiliationOwner && aff != store.AffiliationPublisher {
		items, err := m.Store.PubSubItems(ctx, m.Addr.String(), name, []string{id}, 0)
		if err != nil {
			return err
		}
		if len(items) == 0 || items[0].Publisher != from.Bare().String() || m.mayPublish(ctx, n, from) != nil {
			return stanza.ErrForbidden.WithText("you may not retract this item")
		}
	}
	err = m.Store.RetractPubSubItem(ctx, m.Addr.String(), name, id)
	if errors.Is(err, store.ErrNotFound) {
		return stanza.ErrItemNotFound.WithText("no such item")
	}
	if err != nil {
		return err
	}
	if notify || n.NotifiesRetract() {
		m.notify(ctx, n, RetractEvent(name, id))
	}
	return nil
}

// items handles §6.5: all, by id, the newest max_items, paged within
// Limits.ReplyBytes (§6.5.4, XEP-0059), as the access model allows.
func (m *Module) items(ctx context.Context, from jid.JID, req, set *xmlstream.Element) (*xmlstream.Element, error) {
	name := req.Get("node")
	if err := m.readable(ctx, from, name); err != nil {
		return nil, err
	}
	rq, err := ParseItems(req, set, m.limits.NodeItems)
	if err != nil {
		return nil, err
	}
	defer m.lockNode(name).Unlock() // no publish between sizes and payloads
	sizes, err := m.Store.PubSubItemSizes(ctx, m.Addr.String(), name)
	if err != nil {
		return nil, err
	}
	return rq.Reply(name, sizes, m.limits.ReplyBytes, func(ids []string) ([]*xmlstream.Element, error) {
		items, err := m.Store.PubSubItems(ctx, m.Addr.String(), name, ids, 0)
		if err != nil {
			return nil, err
		}
		out := make([]*xmlstream.Element, 0, len(items))
		for _, it := range items {
			out = append(out, xmlstream.New("item", NS, "id", it.ID, "publisher", it.Publisher).Add(&xmlstream.Element{Raw: it.Payload}))
		}
		return out, nil
	})
}

// subscribe handles §6.1: a subscription, pending an owner's approval
// under the authorize model (§6.1.2, §8.6), with options (§6.3.7); the
// last item follows the result (§6.1.7).
func (m *Module) subscribe(ctx context.Context, from jid.JID, a, opts *xmlstream.Element, deferred *[]*stanza.Stanza) (*xmlstream.Element, error) {
	rq, err := ParseSubscribe(from, a, opts)
	if err != nil {
		return nil, err
	}
	defer m.lockNode(rq.Node).Unlock()
	n, err := m.load(ctx, rq.Node)
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
	sub, created, err := m.Subscribe(ctx, rq, state)
	if err != nil {
		return nil, err
	}
	if created {
		*deferred = append(*deferred, m.subscriptionChanged(n, rq.Who, sub.State)...)
	}
	switch {
	case sub.State == store.SubscriptionPending && created:
		*deferred = append(*deferred, m.approvalRequests(n, rq.Who, sub.SubID)...)
	case sub.State == store.SubscriptionSubscribed && created && n.PersistItems:
		if last, err := m.Store.PubSubItems(ctx, m.Addr.String(), rq.Node, nil, 1); err == nil && len(last) == 1 {
			*deferred = append(*deferred, m.Event(rq.Who, itemEvent(rq.Node, last[0]),
				m.Delay(last[0].Updated)))
		}
	}
	return SubscriptionReply(rq.Node, sub), nil
}

// unsubscribe handles §6.2; an owner may unsubscribe others.
func (m *Module) unsubscribe(ctx context.Context, from jid.JID, a *xmlstream.Element, deferred *[]*stanza.Stanza) error {
	rq, err := ParseUnsubscribe(a)
	if err != nil {
		return err
	}
	defer m.lockNode(rq.Node).Unlock()
	n, err := m.load(ctx, rq.Node)
	if err != nil {
		return err
	}
	if rq.Who.Bare() != from.Bare() && n.affiliation(from) != store.AffiliationOwner {
		return stanza.ErrForbidden // §6.2.3.3
	}
	if err := m.Unsubscribe(ctx, rq); err != nil {
		return err
	}
	*deferred = append(*deferred, m.subscriptionChanged(n, rq.Who, "none")...)
	return nil
}

// options handles §6.3 on an existing node.
func (m *Module) options(ctx context.Context, iq *stanza.Stanza, a *xmlstream.Element) (*xmlstream.Element, error) {
	name := a.Get("node")
	if name == "" {
		return nil, ErrNodeRequired
	}
	defer m.lockNode(name).Unlock()
	if _, err := m.load(ctx, name); err != nil {
		return nil, err
	}
	return m.Options(ctx, iq, a)
}

// defaultOptions answers §6.4: the default subscription options.
func (m *Module) defaultOptions() *xmlstream.Element {
	return xmlstream.New("pubsub", NS).Add(xmlstream.New("default", NS).Add(SubOptions{}.form("form")))
}
