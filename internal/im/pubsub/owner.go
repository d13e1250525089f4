package pubsub

import (
	"context"
	"errors"

	"parley/internal/dataform"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// owner serves pubsub#owner (§8): configure, default, delete, purge,
// subscriptions and affiliations management, by the node's owners.
func (m *Module) owner(ctx context.Context, iq *stanza.Stanza, p *xmlstream.Element, deferred *[]*stanza.Stanza) (*xmlstream.Element, error) {
	a := action(p, NSOwner)
	if a == nil {
		return nil, stanza.ErrBadRequest.WithText("no pubsub#owner action")
	}
	if a.Name == "default" && iq.Type == "get" { // §8.3
		return xmlstream.New("pubsub", NSOwner).Add(xmlstream.New("default", NSOwner).Add(defaultConfig().Form("form"))), nil
	}
	name := a.Get("node")
	if name == "" {
		return nil, ErrNodeRequired
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	if err != nil {
		return nil, err
	}
	if n.affiliation(iq.From) != store.AffiliationOwner {
		return nil, stanza.ErrForbidden.WithText("only the node's owners may do this")
	}
	switch {
	case a.Name == "configure" && iq.Type == "get": // §8.2
		return xmlstream.New("pubsub", NSOwner).Add(xmlstream.New("configure", NSOwner, "node", name).Add(n.Form("form"))), nil
	case a.Name == "configure" && iq.Type == "set":
		x := a.Child("x", dataform.NS)
		if x == nil {
			return nil, stanza.ErrBadRequest.WithText("expected a node_config form")
		}
		if x.Get("type") == "cancel" { // §8.2.5
			return nil, nil
		}
		if err := n.Apply(x, NSNodeConfig, m.limits.NodeItems); err != nil {
			return nil, err
		}
		return nil, m.save(ctx, n)
	case a.Name == "delete" && iq.Type == "set": // §8.4
		subs, err := m.store.PubSubSubscriptions(ctx, m.jid.String(), name)
		if err != nil {
			return nil, err
		}
		if err := m.store.DeletePubSubNode(ctx, m.jid.String(), name); err != nil {
			return nil, err
		}
		*deferred = append(*deferred, m.events(subs, xmlstream.New("delete", NSEvent, "node", name))...)
		return nil, nil
	case a.Name == "purge" && iq.Type == "set": // §8.5
		if !n.PersistItems {
			return nil, Unsupported("persistent-items")
		}
		if err := m.store.PurgePubSubNode(ctx, m.jid.String(), name); err != nil {
			return nil, err
		}
		m.notify(ctx, n, xmlstream.New("purge", NSEvent, "node", name))
		return nil, nil
	case a.Name == "subscriptions" && iq.Type == "get": // §8.8.1
		subs, err := m.store.PubSubSubscriptions(ctx, m.jid.String(), name)
		if err != nil {
			return nil, err
		}
		out := xmlstream.New("subscriptions", NSOwner, "node", name)
		for _, s := range subs {
			out.Add(xmlstream.New("subscription", NSOwner, "jid", s.JID, "subscription", s.State, "subid", s.SubID))
		}
		return xmlstream.New("pubsub", NSOwner).Add(out), nil
	case a.Name == "subscriptions" && iq.Type == "set": // §8.8.2
		return nil, m.setSubscriptions(ctx, n, a, deferred)
	case a.Name == "affiliations" && iq.Type == "get": // §8.9.1
		affs, err := m.store.PubSubAffiliations(ctx, m.jid.String(), name)
		if err != nil {
			return nil, err
		}
		out := xmlstream.New("affiliations", NSOwner, "node", name)
		for _, af := range affs {
			out.Add(xmlstream.New("affiliation", NSOwner, "jid", af.JID, "affiliation", af.Affiliation))
		}
		return xmlstream.New("pubsub", NSOwner).Add(out), nil
	case a.Name == "affiliations" && iq.Type == "set": // §8.9.2
		return nil, m.setAffiliations(ctx, n, a)
	}
	return nil, Unsupported(a.Name)
}

// setSubscriptions handles §8.8.2: the owner subscribes, approves or
// removes entities; each changed subscriber is told (§8.8.4).
func (m *Module) setSubscriptions(ctx context.Context, n *node, a *xmlstream.Element, deferred *[]*stanza.Stanza) error {
	subs, err := m.store.PubSubSubscriptions(ctx, m.jid.String(), n.Name)
	if err != nil {
		return err
	}
	type change struct {
		who   jid.JID
		subid string
		state string
	}
	var changes []change
	for _, c := range a.Children {
		if c.Name != "subscription" || c.Space != NSOwner {
			continue
		}
		who, err := jid.Parse(c.Get("jid"))
		state := c.Get("subscription")
		if err != nil || c.Get("jid") == "" {
			return Error(stanza.ErrBadRequest, "invalid-jid")
		}
		switch state {
		case store.SubscriptionSubscribed, store.SubscriptionPending, store.SubscriptionUnconfigured, "none":
		default:
			return stanza.ErrBadRequest.WithText("unknown subscription state " + state)
		}
		changes = append(changes, change{who, c.Get("subid"), state})
	}
	for _, ch := range changes {
		var cur *store.PubSubSubscription
		for i := range subs {
			if subs[i].JID == ch.who.String() && (ch.subid == "" || subs[i].SubID == ch.subid) {
				cur = &subs[i]
				break
			}
		}
		switch {
		case ch.state == "none" && cur == nil:
			continue
		case ch.state == "none":
			if err := m.store.DeletePubSubSubscription(ctx, m.jid.String(), n.Name, cur.JID, cur.SubID); err != nil {
				return err
			}
		case cur == nil:
			s := store.PubSubSubscription{JID: ch.who.String(), SubID: stanza.NewID(), State: ch.state, Options: SubOptions{}.marshal()}
			if err := m.store.PutPubSubSubscription(ctx, m.jid.String(), n.Name, s); err != nil {
				return err
			}
			cur = &s
		default:
			cur.State = ch.state
			if err := m.store.PutPubSubSubscription(ctx, m.jid.String(), n.Name, *cur); err != nil {
				return err
			}
		}
		*deferred = append(*deferred, m.event(ch.who,
			xmlstream.New("subscription", NSEvent, "node", n.Name, "jid", ch.who.String(), "subscription", ch.state)))
	}
	return nil
}

// setAffiliations handles §8.9.2. A node keeps at least one owner
// (refused with not-acceptable otherwise); the affiliations are checked
// before any is written.
func (m *Module) setAffiliations(ctx context.Context, n *node, a *xmlstream.Element) error {
	var set []store.PubSubAffiliation
	after := map[string]string{}
	for k, v := range n.affs {
		after[k] = v
	}
	for _, c := range a.Children {
		if c.Name != "affiliation" || c.Space != NSOwner {
			continue
		}
		who, err := jid.Parse(c.Get("jid"))
		if err != nil || c.Get("jid") == "" {
			return Error(stanza.ErrBadRequest, "invalid-jid")
		}
		aff := c.Get("affiliation")
		switch aff {
		case store.AffiliationOwner, store.AffiliationPublisher, store.AffiliationPubOnly,
			store.AffiliationMember, store.AffiliationNone, store.AffiliationOutcast:
		default:
			return stanza.ErrBadRequest.WithText("unknown affiliation " + aff)
		}
		b := who.Bare().String()
		set = append(set, store.PubSubAffiliation{JID: b, Affiliation: aff})
		if aff == store.AffiliationNone {
			delete(after, b)
		} else {
			after[b] = aff
		}
	}
	owners := 0
	for _, v := range after {
		if v == store.AffiliationOwner {
			owners++
		}
	}
	if owners == 0 {
		return stanza.ErrNotAcceptable.WithText("a node keeps at least one owner")
	}
	for _, af := range set {
		if err := m.store.SetPubSubAffiliation(ctx, m.jid.String(), n.Name, af); err != nil {
			return err
		}
		if af.Affiliation == store.AffiliationOutcast { // §4.1: no subscription either
			subs, err := m.store.PubSubSubscriptions(ctx, m.jid.String(), n.Name)
			if err != nil {
				return err
			}
			for _, s := range subs {
				if j, err := jid.Parse(s.JID); err == nil && j.Bare().String() == af.JID {
					err := m.store.DeletePubSubSubscription(ctx, m.jid.String(), n.Name, s.JID, s.SubID)
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
				}
			}
		}
	}
	return nil
}
