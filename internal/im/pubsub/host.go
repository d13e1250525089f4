package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"parley/internal/dataform"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Host is one pubsub service's subscriptions and affiliations in the
// store, shared by the service at pubsub.<domain> and PEP: Addr is the
// service's address (the service's domain, or a PEP account's bare
// JID), under which the store keeps them and from which events come.
type Host struct {
	Store store.PubSub
	Addr  jid.JID
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

// SubscribeRequest is a parsed subscribe request (§6.1.1, §6.3.7).
type SubscribeRequest struct {
	Node    string
	Who     jid.JID     // the JID subscribed: the requester's bare or full JID
	Options *SubOptions // nil: none given
}

// ParseSubscribe reads a <subscribe/> and its <options/> (which may be
// nil) sent by from.
func ParseSubscribe(from jid.JID, a, opts *xmlstream.Element) (SubscribeRequest, error) {
	rq := SubscribeRequest{Node: a.Get("node")}
	if rq.Node == "" {
		return rq, ErrNodeRequired
	}
	var err error
	if rq.Who, err = subscriber(from, a); err != nil {
		return rq, err
	}
	if opts != nil {
		if x := opts.Child("x", dataform.NS); x != nil {
			rq.Options = &SubOptions{}
			if err := rq.Options.apply(x); err != nil {
				return rq, err
			}
		}
	}
	return rq, nil
}

// Subscribe stores a subscription of rq.Who in state, unless it has one
// (§6.1.6: asking again returns it, with new options if given); created
// says whether it is new. The caller has applied the access model.
func (h Host) Subscribe(ctx context.Context, rq SubscribeRequest, state string) (sub store.PubSubSubscription, created bool, err error) {
	subs, err := h.Store.PubSubSubscriptions(ctx, h.Addr.String(), rq.Node)
	if err != nil {
		return sub, false, err
	}
	var o SubOptions
	if rq.Options != nil {
		o = *rq.Options
	}
	sub = store.PubSubSubscription{JID: rq.Who.String(), SubID: stanza.NewID(), State: state, Options: o.marshal()}
	created = true
	held := 0 // by the subscriber's bare JID and its full JIDs
	for _, s := range subs {
		if s.JID == rq.Who.String() {
			sub, created = s, false
			if rq.Options != nil {
				sub.Options = o.marshal()
			}
			break
		}
		if j, err := jid.Parse(s.JID); err == nil && j.Bare() == rq.Who.Bare() {
			held++
		}
	}
	if created && held >= MaxSubscriptions {
		return sub, false, ErrTooManySubscriptions
	}
	if created || rq.Options != nil {
		if err := h.Store.PutPubSubSubscription(ctx, h.Addr.String(), rq.Node, sub); err != nil {
			return sub, false, err
		}
	}
	return sub, created, nil
}

// MaxSubscriptions bounds the subscriptions one account (its bare JID
// and its full JIDs together) holds to one node: a full JID is any
// resource string, so without a bound one account could fill the store.
const MaxSubscriptions = 16

// ErrTooManySubscriptions refuses a subscription beyond MaxSubscriptions
// (XEP-0060 §6.1.3.9).
var ErrTooManySubscriptions = Error(stanza.ErrPolicyViolation, "too-many-subscriptions")

// SubscriptionReply is the answer to a subscribe request (§6.1.2).
func SubscriptionReply(node string, sub store.PubSubSubscription) *xmlstream.Element {
	return xmlstream.New("pubsub", NS).Add(subscriptionElement(NS, node, sub))
}

// UnsubscribeRequest is a parsed <unsubscribe/> (§6.2.1).
type UnsubscribeRequest struct {
	Node  string
	Who   jid.JID
	SubID string
}

// ParseUnsubscribe reads an <unsubscribe/>.
func ParseUnsubscribe(a *xmlstream.Element) (UnsubscribeRequest, error) {
	rq := UnsubscribeRequest{Node: a.Get("node"), SubID: a.Get("subid")}
	if rq.Node == "" {
		return rq, ErrNodeRequired
	}
	var err error
	if rq.Who, err = jid.Parse(a.Get("jid")); err != nil || a.Get("jid") == "" {
		return rq, Error(stanza.ErrBadRequest, "invalid-jid")
	}
	return rq, nil
}

// Unsubscribe removes a subscription (§6.2); the caller has checked that
// the requester may.
func (h Host) Unsubscribe(ctx context.Context, rq UnsubscribeRequest) error {
	s, err := h.mine(ctx, rq.Node, rq.Who, rq.SubID)
	if err != nil {
		return err
	}
	return h.Store.DeletePubSubSubscription(ctx, h.Addr.String(), rq.Node, s.JID, s.SubID)
}

// Options serves §6.3 for a node the caller has found: the requester's
// own subscription's options, got or set (forbidden for another's,
// §6.3.4.2).
func (h Host) Options(ctx context.Context, iq *stanza.Stanza, a *xmlstream.Element) (*xmlstream.Element, error) {
	name := a.Get("node")
	who, err := jid.Parse(a.Get("jid"))
	if err != nil || a.Get("jid") == "" {
		return nil, Error(stanza.ErrBadRequest, "jid-required")
	}
	if who.Bare() != iq.From.Bare() {
		return nil, stanza.ErrForbidden
	}
	s, err := h.mine(ctx, name, who, a.Get("subid"))
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
	return nil, h.Store.PutPubSubSubscription(ctx, h.Addr.String(), name, s)
}

// Subscribers are a node's subscribers in state subscribed with
// delivery on, one per JID.
func (h Host) Subscribers(ctx context.Context, node string) ([]jid.JID, error) {
	subs, err := h.Store.PubSubSubscriptions(ctx, h.Addr.String(), node)
	if err != nil {
		return nil, err
	}
	return delivered(subs), nil
}

// delivered are the JIDs of subs that get notifications.
func delivered(subs []store.PubSubSubscription) []jid.JID {
	var out []jid.JID
	seen := map[string]bool{}
	for _, s := range subs {
		var o SubOptions
		if len(s.Options) > len("{}") { // the zero options are "{}"
			_ = json.Unmarshal(s.Options, &o) // a damaged row delivers
		}
		if s.State != store.SubscriptionSubscribed || o.NoDeliver || seen[s.JID] {
			continue
		}
		seen[s.JID] = true
		if to, err := jid.Parse(s.JID); err == nil {
			out = append(out, to)
		}
	}
	return out
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

func subscriptionElement(space, node string, s store.PubSubSubscription) *xmlstream.Element {
	return xmlstream.New("subscription", space, "node", node, "jid", s.JID, "subid", s.SubID, "subscription", s.State)
}

// mine finds from's subscription to a node by JID and optional subid
// (§6.2.3: not-subscribed, subid-required, invalid-subid).
func (h Host) mine(ctx context.Context, name string, who jid.JID, subid string) (store.PubSubSubscription, error) {
	subs, err := h.Store.PubSubSubscriptions(ctx, h.Addr.String(), name)
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

// OwnSubscriptions answers §5.6: the requester's subscriptions.
func (h Host) OwnSubscriptions(ctx context.Context, from jid.JID, node string) (*xmlstream.Element, error) {
	subs, err := h.Store.PubSubSubscriptions(ctx, h.Addr.String(), node)
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

// Affiliations are a node's affiliations, by bare JID.
func (h Host) Affiliations(ctx context.Context, node string) (map[string]string, error) {
	affs, err := h.Store.PubSubAffiliations(ctx, h.Addr.String(), node)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(affs))
	for _, a := range affs {
		out[a.JID] = a.Affiliation
	}
	return out, nil
}

// AffiliationsOf are an entity's affiliations (its bare JID's) with each
// of the service's nodes, by node.
func (h Host) AffiliationsOf(ctx context.Context, who jid.JID) (map[string]string, error) {
	affs, err := h.Store.PubSubAffiliations(ctx, h.Addr.String(), "")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, a := range affs {
		if a.JID == who.Bare().String() {
			out[a.Node] = a.Affiliation
		}
	}
	return out, nil
}

// OwnAffiliations answers §5.7: the requester's affiliations.
func (h Host) OwnAffiliations(ctx context.Context, from jid.JID, node string) (*xmlstream.Element, error) {
	affs, err := h.Store.PubSubAffiliations(ctx, h.Addr.String(), node)
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

// events are the notifications of ev to the subscribed among subs.
// The message is serialised once and readdressed for each subscriber
// (the 'to' spliced into its bytes).
func (h Host) events(subs []store.PubSubSubscription, ev *xmlstream.Element) []*stanza.Stanza {
	to := delivered(subs)
	if len(to) == 0 {
		return nil
	}
	tmpl := h.Event(to[0], ev)
	tmpl.Bytes()
	out := []*stanza.Stanza{tmpl}
	for _, j := range to[1:] {
		c := tmpl.Copy()
		c.SetTo(j)
		out = append(out, c)
	}
	return out
}

// Event is a notification message from the service: a headline, so that
// it is not stored offline for an unavailable subscriber (§12.? leaves the
// type to the service; pubsub#notification_type headline).
func (h Host) Event(to jid.JID, payload *xmlstream.Element, extra ...*xmlstream.Element) *stanza.Stanza {
	msg := stanza.New(stanza.Message, h.Addr, to, "headline", stanza.NewID())
	msg.El.Add(xmlstream.New("event", NSEvent).Add(payload))
	for _, e := range extra {
		if e != nil {
			msg.El.Add(e)
		}
	}
	return msg
}

// Delay says when an item sent after it was published was published
// (§6.1.7; XEP-0203), by the service.
func (h Host) Delay(at time.Time) *xmlstream.Element {
	if at.IsZero() {
		return nil
	}
	return xmlstream.New("delay", NSDelay, "from", h.Addr.String(), "stamp", at.UTC().Format("2006-01-02T15:04:05.999Z07:00"))
}

// NodeSubscriptions answers §8.8.1: a node's subscriptions, for its
// owner.
func (h Host) NodeSubscriptions(ctx context.Context, node string) (*xmlstream.Element, error) {
	subs, err := h.Store.PubSubSubscriptions(ctx, h.Addr.String(), node)
	if err != nil {
		return nil, err
	}
	out := xmlstream.New("subscriptions", NSOwner, "node", node)
	for _, s := range subs {
		out.Add(xmlstream.New("subscription", NSOwner, "jid", s.JID, "subscription", s.State, "subid", s.SubID))
	}
	return xmlstream.New("pubsub", NSOwner).Add(out), nil
}

// NodeAffiliations answers §8.9.1: a node's affiliations, for its owner;
// implicit are affiliations the store does not hold (a PEP node's owner).
func (h Host) NodeAffiliations(ctx context.Context, node string, implicit map[string]string) (*xmlstream.Element, error) {
	affs, err := h.Store.PubSubAffiliations(ctx, h.Addr.String(), node)
	if err != nil {
		return nil, err
	}
	out := xmlstream.New("affiliations", NSOwner, "node", node)
	for j, a := range implicit {
		out.Add(xmlstream.New("affiliation", NSOwner, "jid", j, "affiliation", a))
	}
	for _, af := range affs {
		if _, ok := implicit[af.JID]; !ok {
			out.Add(xmlstream.New("affiliation", NSOwner, "jid", af.JID, "affiliation", af.Affiliation))
		}
	}
	return xmlstream.New("pubsub", NSOwner).Add(out), nil
}

// SetSubscriptions handles §8.8.2: the owner subscribes, approves or
// removes entities; it returns the notices to each changed subscriber
// (§8.8.4), to send after the result.
func (h Host) SetSubscriptions(ctx context.Context, node string, a *xmlstream.Element) ([]*stanza.Stanza, error) {
	subs, err := h.Store.PubSubSubscriptions(ctx, h.Addr.String(), node)
	if err != nil {
		return nil, err
	}
	var told []*stanza.Stanza
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
			return nil, Error(stanza.ErrBadRequest, "invalid-jid")
		}
		switch state {
		case store.SubscriptionSubscribed, store.SubscriptionPending, store.SubscriptionUnconfigured, "none":
		default:
			return nil, stanza.ErrBadRequest.WithText("unknown subscription state " + state)
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
			if err := h.Store.DeletePubSubSubscription(ctx, h.Addr.String(), node, cur.JID, cur.SubID); err != nil {
				return told, err
			}
		case cur == nil:
			s := store.PubSubSubscription{JID: ch.who.String(), SubID: stanza.NewID(), State: ch.state, Options: SubOptions{}.marshal()}
			if err := h.Store.PutPubSubSubscription(ctx, h.Addr.String(), node, s); err != nil {
				return told, err
			}
			cur = &s
		default:
			cur.State = ch.state
			if err := h.Store.PutPubSubSubscription(ctx, h.Addr.String(), node, *cur); err != nil {
				return told, err
			}
		}
		told = append(told, h.Event(ch.who,
			xmlstream.New("subscription", NSEvent, "node", node, "jid", ch.who.String(), "subscription", ch.state)))
	}
	return told, nil
}

// SetAffiliations handles §8.9.2 given the node's affiliations now
// (bare JID -> affiliation). A node keeps at least one owner (refused
// with not-acceptable otherwise); the affiliations are checked before
// any is written; an outcast loses its subscriptions (§4.1).
func (h Host) SetAffiliations(ctx context.Context, node string, now map[string]string, a *xmlstream.Element) error {
	var set []store.PubSubAffiliation
	after := map[string]string{}
	for k, v := range now {
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
		if err := h.Store.SetPubSubAffiliation(ctx, h.Addr.String(), node, af); err != nil {
			return err
		}
		if af.Affiliation == store.AffiliationOutcast { // §4.1: no subscription either
			subs, err := h.Store.PubSubSubscriptions(ctx, h.Addr.String(), node)
			if err != nil {
				return err
			}
			for _, s := range subs {
				if j, err := jid.Parse(s.JID); err == nil && j.Bare().String() == af.JID {
					err := h.Store.DeletePubSubSubscription(ctx, h.Addr.String(), node, s.JID, s.SubID)
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
				}
			}
		}
	}
	return nil
}
