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

// ItemEvent is the notification of an item published (§7.1.2.1): the
// <items/> an <event/> carries, with the item's id, publisher and
// payload.
func ItemEvent(node, id, publisher string, payload []byte) *xmlstream.Element {
	return xmlstream.New("items", NSEvent, "node", node).Add(
		xmlstream.New("item", NSEvent, "id", id, "publisher", publisher).Add(&xmlstream.Element{Raw: payload}))
}

// RetractEvent is the notification of an item retracted (§7.2.2.1).
func RetractEvent(node, id string) *xmlstream.Element {
	return xmlstream.New("items", NSEvent, "node", node).Add(xmlstream.New("retract", NSEvent, "id", id))
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
		out = append(out, m.ApprovalRequest(n.Name, o, who, subid))
	}
	return out
}

// ApprovalRequest is the §8.6.1 message from the service asking owner to
// approve who's pending subscription subid to node.
func (h Host) ApprovalRequest(node string, owner, who jid.JID, subid string) *stanza.Stanza {
	msg := stanza.New(stanza.Message, h.Addr, owner, "", stanza.NewID())
	f := dataform.New("form", NSSubAuth,
		dataform.NewField("pubsub#subid", dataform.Hidden, "", subid),
		dataform.NewField("pubsub#node", dataform.TextSingle, "Node ID", node),
		dataform.NewField("pubsub#subscriber_jid", dataform.JIDSingle, "Subscriber Address", who.String()),
		dataform.NewField("pubsub#allow", dataform.Boolean, "Allow this JID to subscribe to this pubsub node?", "false"))
	f.Title = "PubSub subscriber request"
	f.Instructions = []string{"To approve this entity's subscription request, click the OK button. To deny the request, click the cancel button."}
	msg.El.Add(f.Element())
	return msg
}

// authLimits bound the approval forms read (a handful of fields).
var authLimits = dataform.Limits{Fields: 16, Values: 4, Bytes: 4 << 10}

// Decision is an owner's answer to an approval request (§8.6.2).
type Decision struct {
	Node, SubID string
	Who         jid.JID
	Allow       bool
}

// ParseDecision reads a message's submitted subscribe_authorization
// form; ok is false when the message holds none (another message),
// err when it holds a malformed one (bad-request).
func ParseDecision(msg *stanza.Stanza) (d Decision, ok bool, err error) {
	x := msg.El.Child("x", dataform.NS)
	if x == nil || x.Get("type") != "submit" {
		return d, false, nil
	}
	f, err := dataform.Parse(x, authLimits)
	if err != nil {
		return d, true, err
	}
	if f.FormType() != NSSubAuth {
		return d, false, nil
	}
	d.Node, _ = f.Value("pubsub#node")
	d.SubID, _ = f.Value("pubsub#subid")
	who, err1 := f.JID("pubsub#subscriber_jid")
	allow, err2 := f.Bool("pubsub#allow")
	if d.Node == "" || err1 != nil || err2 != nil {
		return d, true, stanza.ErrBadRequest.WithText("an incomplete subscribe_authorization form")
	}
	d.Who, d.Allow = who, allow
	return d, true, nil
}

// Decide applies an owner's decision to a pending subscription: allowed,
// it becomes subscribed; denied, it goes. It returns the event that
// tells the subscriber (§8.6.3); item-not-found when none is pending.
// The caller has checked that the decision comes from an owner.
func (h Host) Decide(ctx context.Context, d Decision) (*stanza.Stanza, error) {
	s, err := h.mine(ctx, d.Node, d.Who, d.SubID)
	if err != nil || s.State != store.SubscriptionPending {
		return nil, stanza.ErrItemNotFound.WithText("no pending subscription")
	}
	state := "none"
	if d.Allow {
		state, s.State = store.SubscriptionSubscribed, store.SubscriptionSubscribed
		err = h.Store.PutPubSubSubscription(ctx, h.Addr.String(), d.Node, s)
	} else {
		err = h.Store.DeletePubSubSubscription(ctx, h.Addr.String(), d.Node, s.JID, s.SubID)
	}
	if err != nil {
		return nil, err
	}
	return h.Event(d.Who, xmlstream.New("subscription", NSEvent, "node", d.Node, "jid", d.Who.String(),
		"subid", s.SubID, "subscription", state)), nil
}

// message handles an owner's answer to an approval request (§8.6.2):
// allowed, the subscription becomes subscribed; denied, it goes; the
// subscriber is told either way (§8.6.3). Other messages are ignored.
func (m *Module) message(ctx context.Context, msg *stanza.Stanza) {
	d, ok, err := ParseDecision(msg)
	if !ok {
		return
	}
	if err != nil {
		m.bounce(ctx, msg, stanza.ErrBadRequest.WithText(err.Error()))
		return
	}
	defer m.lockNode(d.Node).Unlock()
	n, err := m.load(ctx, d.Node)
	if err != nil {
		m.bounce(ctx, msg, stanza.ErrItemNotFound)
		return
	}
	if n.affiliation(msg.From) != store.AffiliationOwner {
		m.bounce(ctx, msg, stanza.ErrForbidden)
		return
	}
	told, err := m.Decide(ctx, d)
	var se *stanza.Error
	switch {
	case errors.As(err, &se):
		m.bounce(ctx, msg, se)
	case err != nil:
		m.log.Error("pubsub: approval", "node", d.Node, "err", err)
		m.bounce(ctx, msg, stanza.ErrInternalServerError)
	default:
		m.router.Send(ctx, told)
	}
}
