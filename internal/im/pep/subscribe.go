package pep

import (
	"context"
	"errors"

	"parley/internal/im/pubsub"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Explicit subscriptions (XEP-0060 §6.1-6.3, §5.6, §5.7) and their
// management by the owner (§8.8, §8.9), and purge (§8.5), on the pubsub
// core: a PEP service keeps them under the account's bare JID. PEP's
// own notifications (XEP-0163 §4: +notify caps of contacts) still go as
// before; an explicit subscriber gets each event once besides them.

// host is the core's view of an account's PEP service.
func (m *Module) host(own jid.JID) pubsub.Host { return pubsub.Host{Store: m.store, Addr: own} }

// ensureRow gives a node made before the core kept PEP nodes its row,
// which subscriptions and affiliations belong to.
func (m *Module) ensureRow(ctx context.Context, own jid.JID, n *pepNode) error {
	if n.row {
		return nil
	}
	if err := m.putRow(ctx, own, *n); err != nil {
		return err
	}
	n.row = true
	return nil
}

// affiliation is from's affiliation with n: owner for the account, else
// what the owner set (§8.9: member, outcast), none without.
func (m *Module) affiliation(ctx context.Context, own, from jid.JID, n pepNode) (string, error) {
	if from.Bare() == own {
		return store.AffiliationOwner, nil
	}
	affs, err := m.affiliations(ctx, own, n)
	if err != nil {
		return "", err
	}
	if a, ok := affs[from.Bare().String()]; ok {
		return a, nil
	}
	return store.AffiliationNone, nil
}

// affiliations are a node's affiliations by bare JID (none without a
// row in the core's store).
func (m *Module) affiliations(ctx context.Context, own jid.JID, n pepNode) (map[string]string, error) {
	if !n.row {
		return nil, nil
	}
	return m.host(own).Affiliations(ctx, n.Name)
}

// notifySubscribers sends ev to n's explicit subscribers that may still
// read it, to the available resources not already sent it.
func (m *Module) notifySubscribers(ctx context.Context, own jid.JID, n pepNode, ev *xmlstream.Element, sent map[jid.JID]bool) {
	if !n.row {
		return
	}
	subs, err := m.host(own).Subscribers(ctx, n.Name)
	if err != nil {
		m.log.Error("pep: subscribers", "jid", own.String(), "node", n.Name, "err", err)
		return
	}
	for _, sub := range subs {
		if ok, err := m.mayRead(ctx, own, sub, n); err == nil && ok {
			m.deliver(ctx, own, sub, ev, sent)
		}
	}
}

// deliver sends ev to a subscribed JID: a full JID's session, or every
// available resource of a bare JID, that sent does not hold yet. Remote
// subscribers are not reached (no federation yet).
func (m *Module) deliver(ctx context.Context, own, to jid.JID, ev *xmlstream.Element, sent map[jid.JID]bool, extra ...*xmlstream.Element) {
	for _, r := range m.router.Resources(to.Bare()) {
		full := r.Session.JID()
		if !r.Available || sent[full] || (!to.IsBare() && full != to) {
			continue
		}
		m.send(ctx, own, full, ev, extra...)
		sent[full] = true
	}
}

// subscriberIQ serves subscribe, unsubscribe, options and the entity's
// subscriptions and affiliations at an account's PEP service.
func (m *Module) subscriberIQ(ctx context.Context, own jid.JID, iq *stanza.Stanza, a, ps *xmlstream.Element) (*xmlstream.Element, error) {
	h := m.host(own)
	switch {
	case iq.Type == "set" && a.Name == "subscribe":
		return nil, m.subscribe(ctx, own, iq, a, ps.Child("options", NS))
	case iq.Type == "set" && a.Name == "unsubscribe":
		rq, err := pubsub.ParseUnsubscribe(a)
		if err != nil {
			return nil, err
		}
		if rq.Who.Bare() != iq.From.Bare() && iq.From.Bare() != own {
			return nil, stanza.ErrForbidden
		}
		if _, err := m.node(ctx, own, rq.Node); err != nil {
			return nil, err
		}
		return nil, h.Unsubscribe(ctx, rq)
	case a.Name == "options":
		if _, err := m.node(ctx, own, a.Get("node")); err != nil {
			return nil, err
		}
		return h.Options(ctx, iq, a)
	case iq.Type == "get" && a.Name == "subscriptions":
		return h.OwnSubscriptions(ctx, iq.From, a.Get("node"))
	case iq.Type == "get" && a.Name == "affiliations":
		if iq.From.Bare() != own {
			return h.OwnAffiliations(ctx, iq.From, a.Get("node"))
		}
		ns, err := m.store.PEPNodes(ctx, own.Local())
		if err != nil {
			return nil, err
		}
		out := xmlstream.New("affiliations", NS)
		for _, n := range ns {
			if a.Get("node") == "" || a.Get("node") == n.Node {
				out.Add(xmlstream.New("affiliation", NS, "node", n.Node, "affiliation", store.AffiliationOwner))
			}
		}
		return xmlstream.New("pubsub", NS).Add(out), nil
	}
	return nil, pubsub.Unsupported(a.Name)
}

// subscribe handles §6.1 at a PEP service: as the access model allows,
// the requester subscribes its bare or full JID; the result goes first,
// then the last item with <delay/> (§6.1.7).
func (m *Module) subscribe(ctx context.Context, own jid.JID, iq *stanza.Stanza, a, opts *xmlstream.Element) error {
	rq, err := pubsub.ParseSubscribe(iq.From, a, opts)
	if err != nil {
		return err
	}
	defer m.lockOwner(own).Unlock() // the result and the last item before any later event
	n, err := m.node(ctx, own, rq.Node)
	if err != nil {
		return err
	}
	if err := m.ensureRow(ctx, own, &n); err != nil {
		return err
	}
	state := store.SubscriptionSubscribed
	aff, err := m.affiliation(ctx, own, iq.From, n)
	if err != nil {
		return err
	}
	switch err := m.accessAs(ctx, own, iq.From, n, aff); {
	case err == nil:
	case n.AccessModel == pubsub.AccessAuthorize && aff == store.AffiliationNone:
		state = store.SubscriptionPending // XEP-0060 §6.1.2: the owner decides
	default:
		return err
	}
	h := m.host(own)
	sub, created, err := h.Subscribe(ctx, rq, state)
	if err != nil {
		return err
	}
	m.router.DeliverTo(iq.From, stanza.Result(iq, pubsub.SubscriptionReply(rq.Node, sub)))
	if sub.State == store.SubscriptionPending {
		if created { // §8.6.1: the form goes to the owner, the account
			m.router.Send(ctx, h.ApprovalRequest(rq.Node, own, rq.Who, sub.SubID))
		}
		return router.ErrNoReply
	}
	if created && n.PersistItems {
		items, err := m.store.PEPItems(ctx, own.Local(), n.Name, nil, 1)
		if err == nil && len(items) == 1 {
			it := items[0]
			m.deliver(ctx, own, rq.Who, pubsub.ItemEvent(n.Name, it.ID, own.String(), it.Payload), map[jid.JID]bool{}, h.Delay(it.Updated))
		}
	}
	return router.ErrNoReply
}

// ownerIQ serves the owner's management of subscriptions (§8.8) and
// affiliations (§8.9: members of the whitelist, outcasts; a PEP node
// has one owner, the account) and purge (§8.5).
func (m *Module) ownerIQ(ctx context.Context, own jid.JID, iq *stanza.Stanza, a *xmlstream.Element, name string) (*xmlstream.Element, error) {
	defer m.lockOwner(own).Unlock()
	n, err := m.node(ctx, own, name)
	if err != nil {
		return nil, err
	}
	h := m.host(own)
	owner := map[string]string{own.String(): store.AffiliationOwner}
	switch {
	case a.Name == "subscriptions" && iq.Type == "get":
		if !n.row {
			return xmlstream.New("pubsub", NSOwner).Add(xmlstream.New("subscriptions", NSOwner, "node", name)), nil
		}
		return h.NodeSubscriptions(ctx, name)
	case a.Name == "subscriptions" && iq.Type == "set":
		if err := m.ensureRow(ctx, own, &n); err != nil {
			return nil, err
		}
		told, err := h.SetSubscriptions(ctx, name, a)
		for _, st := range told {
			m.deliver(ctx, own, st.To, st.El.Child("event", NSEvent).FirstChild(), map[jid.JID]bool{})
		}
		return nil, err
	case a.Name == "affiliations" && iq.Type == "get":
		if err := m.ensureRow(ctx, own, &n); err != nil {
			return nil, err
		}
		return h.NodeAffiliations(ctx, name, owner)
	case a.Name == "affiliations" && iq.Type == "set":
		for _, c := range a.Children {
			switch c.Get("affiliation") {
			case store.AffiliationMember, store.AffiliationOutcast, store.AffiliationNone:
			default:
				return nil, stanza.ErrNotAcceptable.WithText("a PEP node has one owner and no publishers but the account")
			}
			if j, err := jid.Parse(c.Get("jid")); err == nil && j.Bare() == own {
				return nil, stanza.ErrNotAcceptable.WithText("the account stays the node's owner")
			}
		}
		if err := m.ensureRow(ctx, own, &n); err != nil {
			return nil, err
		}
		return nil, h.SetAffiliations(ctx, name, owner, a)
	case a.Name == "purge" && iq.Type == "set":
		sizes, err := m.store.PEPItemSizes(ctx, own.Local(), name)
		if err != nil {
			return nil, err
		}
		for _, it := range sizes {
			if err := m.store.RetractPEPItem(ctx, own.Local(), name, it.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		m.notify(ctx, own, n, xmlstream.New("purge", NSEvent, "node", name))
		return nil, nil
	}
	return nil, pubsub.Unsupported(a.Name)
}

// decision takes an owner's answer to an approval request (XEP-0060
// §8.6.2), a message from the account to its own bare JID (the PEP
// service) with the subscribe_authorization form: allowed, the
// subscription becomes subscribed and the subscriber a member, who may
// then read the node and gets its notifications; denied, the
// subscription goes. The subscriber is told either way (§8.6.3). Other
// stanzas pass.
func (m *Module) decision(ctx context.Context, st *stanza.Stanza) error {
	if st.Kind != stanza.Message || !st.To.IsBare() || st.From.Bare() != st.To || st.El.Child("x", NSData) == nil {
		return nil
	}
	d, ok, err := pubsub.ParseDecision(st)
	if !ok {
		return nil
	}
	if err != nil {
		return stanza.ErrBadRequest.WithText(err.Error())
	}
	own := st.To
	defer m.lockOwner(own).Unlock()
	n, err := m.node(ctx, own, d.Node)
	if err != nil {
		return err
	}
	h := m.host(own)
	told, err := h.Decide(ctx, d)
	if err != nil {
		return err
	}
	if d.Allow {
		err = m.store.SetPubSubAffiliation(ctx, own.String(), n.Name,
			store.PubSubAffiliation{JID: d.Who.Bare().String(), Affiliation: store.AffiliationMember})
		if err != nil {
			return err
		}
	}
	m.router.Send(ctx, told)
	return router.ErrDrop
}
