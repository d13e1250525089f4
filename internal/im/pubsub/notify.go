package pubsub

import (
	"context"

	"parley/internal/dataform"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// notify sends an event (§7.1.2.1, §7.2.2.1, §8.5.2) to every subscriber
// in state subscribed that has not turned delivery off (§6.3,
// pubsub#deliver). The caller holds the node's lock.
func (m *Module) notify(ctx context.Context, n *node, ev *xmlstream.Element) {
	subs, err := m.Store.PubSubSubscriptions(ctx, m.Addr.String(), n.Name)
	if err != nil {
		m.log.Error("pubsub: subscribers", "node", n.Name, "err", err)
		return
	}
	for _, st := range m.events(subs, ev) {
		m.router.Send(ctx, st)
	}
}

// ConfigurationEvent is the §8.2.4 notification of a changed
// configuration, carrying it as a result form.
func ConfigurationEvent(node string, c Config) *xmlstream.Element {
	return xmlstream.New("configuration", NSEvent, "node", node).Add(c.Form(dataform.TypeResult))
}

// subscriptionChanged tells the node's owners of a subscription made or
// ended (pubsub#notify_sub), as the §8.8.4 subscription event.
func (m *Module) subscriptionChanged(n *node, who jid.JID, state string) []*stanza.Stanza {
	if !n.NotifiesSub() {
		return nil
	}
	var out []*stanza.Stanza
	for _, o := range n.owners() {
		out = append(out, m.Event(o, xmlstream.New("subscription", NSEvent, "node", n.Name, "jid", who.String(), "subscription", state)))
	}
	return out
}

// approvalRequests ask each owner to approve a pending subscription with
// the subscribe_authorization form (§8.6.1).
func (m *Module) approvalRequests(n *node, who jid.JID, subid string) []*stanza.Stanza {
	var out []*stanza.Stanza
	for _, o := range n.owners() {
		msg := stanza.New(stanza.Message, m.Addr, o, "", stanza.NewID())
		f := dataform.New("form", NSSubAuth,
			dataform.NewField("pubsub#subid", dataform.Hidden, "", subid),
			dataform.NewField("pubsub#node", dataform.TextSingle, "Node ID", n.Name),
			dataform.NewField("pubsub#subscriber_jid", dataform.JIDSingle, "Subscriber Address", who.String()),
			dataform.NewField("pubsub#allow", dataform.Boolean, "Allow this JID to subscribe to this pubsub node?", "false"))
		f.Title = "PubSub subscriber request"
		f.Instructions = []string{"To approve this entity's subscription request, click the OK button. To deny the request, click the cancel button."}
		msg.El.Add(f.Element())
		out = append(out, msg)
	}
	return out
}

// authLimits bound the approval forms read (a handful of fields).
var authLimits = dataform.Limits{Fields: 16, Values: 4, Bytes: 4 << 10}

// message handles an owner's answer to an approval request (§8.6.2):
// allowed, the subscription becomes subscribed; denied, it goes; the
// subscriber is told either way (§8.6.3). Other messages are ignored.
func (m *Module) message(ctx context.Context, msg *stanza.Stanza) {
	x := msg.El.Child("x", dataform.NS)
	if x == nil || x.Get("type") != "submit" {
		return
	}
	f, err := dataform.Parse(x, authLimits)
	if err != nil || f.FormType() != NSSubAuth {
		m.bounce(ctx, msg, stanza.ErrBadRequest)
		return
	}
	name, _ := f.Value("pubsub#node")
	subid, _ := f.Value("pubsub#subid")
	who, err1 := f.JID("pubsub#subscriber_jid")
	allow, err2 := f.Bool("pubsub#allow")
	if name == "" || err1 != nil || err2 != nil {
		m.bounce(ctx, msg, stanza.ErrBadRequest.WithText("an incomplete subscribe_authorization form"))
		return
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	if err != nil {
		m.bounce(ctx, msg, stanza.ErrItemNotFound)
		return
	}
	if n.affiliation(msg.From) != store.AffiliationOwner {
		m.bounce(ctx, msg, stanza.ErrForbidden)
		return
	}
	s, err := m.mine(ctx, name, who, subid)
	if err != nil || s.State != store.SubscriptionPending {
		m.bounce(ctx, msg, stanza.ErrItemNotFound.WithText("no pending subscription"))
		return
	}
	state := "none"
	if allow {
		state, s.State = store.SubscriptionSubscribed, store.SubscriptionSubscribed
		err = m.Store.PutPubSubSubscription(ctx, m.Addr.String(), name, s)
	} else {
		err = m.Store.DeletePubSubSubscription(ctx, m.Addr.String(), name, s.JID, s.SubID)
	}
	if err != nil {
		m.log.Error("pubsub: approval", "node", name, "err", err)
		m.bounce(ctx, msg, stanza.ErrInternalServerError)
		return
	}
	m.router.Send(ctx, m.Event(who, xmlstream.New("subscription", NSEvent, "node", name, "jid", who.String(),
		"subid", s.SubID, "subscription", state)))
}
