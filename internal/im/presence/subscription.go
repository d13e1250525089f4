package presence

import (
	"context"
	"slices"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
)

func hasFrom(sub string) bool { return sub == store.SubFrom || sub == store.SubBoth }
func hasTo(sub string) bool   { return sub == store.SubTo || sub == store.SubBoth }

// withFrom and withTo add or remove one direction of a subscription
// (RFC 6121 §2.1.2.5 states none, to, from, both).
func withFrom(sub string, on bool) string { return state(hasTo(sub), on) }
func withTo(sub string, on bool) string   { return state(on, hasFrom(sub)) }

func state(to, from bool) string {
	switch {
	case to && from:
		return store.SubBoth
	case to:
		return store.SubTo
	case from:
		return store.SubFrom
	}
	return store.SubNone
}

// cancelTo ends the user's subscription to the contact or the user's
// pending request to it, whether the user cancels (§3.3.2) or the contact
// does (§3.2.3); it reports whether there was either.
func cancelTo(it *store.RosterItem, exists bool) bool {
	if !exists || (!hasTo(it.Subscription) && !it.AskOut) {
		return false
	}
	it.Subscription = withTo(it.Subscription, false)
	it.AskOut = false
	return true
}

// outboundSubscription runs the user's side of RFC 6121 §3 for a
// subscription stanza sent by the user (Appendix A.2).
func (h *Handler) outboundSubscription(ctx context.Context, st *stanza.Stanza) {
	user, contact := st.From.Bare(), st.To.Bare()
	out := bareAddressed(st) // §3.1.2: from the bare JID, to the bare JID
	route, sendPresence, sendUnavailable := true, false, false
	var fn func(it *store.RosterItem, exists bool) bool
	switch st.Type {
	case "subscribe":
		// §3.1.2: the item shows pending out ("ask") and is visible; a
		// request while subscribed changes nothing but is still routed.
		fn = func(it *store.RosterItem, _ bool) bool {
			if hasTo(it.Subscription) || (it.AskOut && !it.Hidden) {
				return false
			}
			it.AskOut, it.Hidden = true, false
			return true
		}
	case "subscribed":
		fn = func(it *store.RosterItem, _ bool) bool {
			switch {
			case hasFrom(it.Subscription):
				route = false // A.2.2: redundant, not routed
				return false
			case it.PendingIn:
				// §3.1.5: approval; the item becomes visible.
				it.Subscription = withFrom(it.Subscription, true)
				it.PendingIn, it.Hidden = false, false
				sendPresence = true
				return true
			default:
				// §3.4.1: approval before a request is pre-approval,
				// noted and pushed, not routed.
				route = false
				if it.PreApproved && !it.Hidden {
					return false
				}
				it.PreApproved, it.Hidden = true, false
				return true
			}
		}
	case "unsubscribe":
		// §3.3.2: cancels the user's subscription or pending request.
		fn = cancelTo
	case "unsubscribed":
		// §3.2.2 cancels the contact's subscription, §3.1.4 denies a
		// pending request, §3.4 cancels a pre-approval.
		fn = func(it *store.RosterItem, exists bool) bool {
			if !exists || (!hasFrom(it.Subscription) && !it.PendingIn && !it.PreApproved) {
				return false
			}
			sendUnavailable = hasFrom(it.Subscription)
			it.Subscription = withFrom(it.Subscription, false)
			it.PendingIn, it.PreApproved = false, false
			return true
		}
	}
	if _, err := h.roster.Modify(ctx, user, contact, fn); err != nil {
		h.log.Error("presence: roster update failed", "jid", user.String(), "contact", contact.String(), "err", err)
		h.router.Send(ctx, stanza.ErrorReply(st, stanza.ErrInternalServerError))
		return
	}
	if sendUnavailable {
		// §3.2.2: the contact no longer sees the user: it learns that
		// every resource is gone.
		h.unavailableTo(ctx, user, contact)
	}
	if route {
		h.router.Send(ctx, out)
	}
	if sendPresence {
		// §3.1.5: the new subscriber gets the user's current presence.
		h.presenceTo(ctx, user, contact)
	}
}

// inboundSubscription runs the contact's side of RFC 6121 §3 for a
// subscription stanza addressed to a local user (Appendix A.3). Here
// "user" is the local account the stanza is for and "contact" its sender.
func (h *Handler) inboundSubscription(ctx context.Context, st *stanza.Stanza) {
	user, contact := st.To.Bare(), st.From.Bare()
	in := bareAddressed(st)
	deliver, approve := false, false
	if st.Type == "subscribe" {
		// §3.1.3: a contact that already has the user's presence is
		// answered for the user; the user's roster view (Item) counts
		// shared groups (roster.Shared), where nothing is stored.
		if it, ok, err := h.roster.Item(ctx, user, contact); err == nil && ok && hasFrom(it.Subscription) {
			h.approve(ctx, user, contact)
			return
		}
	}
	var fn func(it *store.RosterItem, exists bool) bool
	switch st.Type {
	case "subscribe":
		raw := slices.Clone(in.Bytes())
		fn = func(it *store.RosterItem, exists bool) bool {
			switch {
			case hasFrom(it.Subscription):
				// §3.1.3: already subscribed: answered for the user.
				approve = true
				return false
			case it.PreApproved:
				// §3.4.2: pre-approved: answered, and the subscription
				// takes effect without asking the user.
				approve = true
				it.Subscription = withFrom(it.Subscription, true)
				it.PreApproved, it.Hidden = false, false
				return true
			case it.PendingIn:
				// A.3.1: a repeated request changes nothing and is not
				// delivered again.
				return false
			}
			// §3.1.3: note the request (a hidden item if the contact is
			// not on the roster) and deliver it.
			it.PendingIn, it.PendingInStanza = true, raw
			if !exists {
				it.Hidden = true
			}
			deliver = true
			return true
		}
	case "subscribed":
		// §3.1.6: only an answer to a pending request counts.
		fn = func(it *store.RosterItem, exists bool) bool {
			if !exists || !it.AskOut || hasTo(it.Subscription) {
				return false
			}
			it.Subscription = withTo(it.Subscription, true)
			it.AskOut, it.Hidden = false, false
			deliver = true
			return true
		}
	case "unsubscribe":
		// §3.3.3: the contact unsubscribes from the user's presence (or
		// withdraws a pending request, which is dropped silently).
		fn = func(it *store.RosterItem, exists bool) bool {
			if !exists || (!hasFrom(it.Subscription) && !it.PendingIn) {
				return false
			}
			deliver = hasFrom(it.Subscription)
			it.Subscription = withFrom(it.Subscription, false)
			it.PendingIn = false
			return true
		}
	case "unsubscribed":
		// §3.2.3: the contact cancels the user's subscription or
		// denies the user's pending request.
		fn = func(it *store.RosterItem, exists bool) bool {
			deliver = cancelTo(it, exists)
			return deliver
		}
	}
	if _, err := h.roster.Modify(ctx, user, contact, fn); err != nil {
		h.log.Error("presence: roster update failed", "jid", user.String(), "contact", contact.String(), "err", err)
		return
	}
	if deliver {
		// §3.1.3: to all of the user's available resources, from the
		// contact's bare JID.
		h.toAvailable(user, in)
	}
	if st.Type == "unsubscribe" && deliver {
		// §3.3.3: the contact no longer receives the user's presence and
		// is told that the user's resources are gone.
		h.unavailableTo(ctx, user, contact)
	}
	if approve {
		h.approve(ctx, user, contact)
	}
}

// approve answers a subscription request for the user (§3.1.3) and sends
// the (re)new(ed) subscriber the current presence (§3.1.5).
func (h *Handler) approve(ctx context.Context, user, contact jid.JID) {
	h.router.Send(ctx, stanza.New(stanza.Presence, user, contact, "subscribed", ""))
	h.presenceTo(ctx, user, contact)
}

// presenceTo sends contact the current presence of each of user's
// available resources.
func (h *Handler) presenceTo(ctx context.Context, user, contact jid.JID) {
	h.fromAvailable(ctx, user, contact, func(r router.Resource) *stanza.Stanza {
		if last := r.LastPresence(); last != nil {
			return addressed(last, contact)
		}
		return nil
	})
}

// unavailableTo tells contact that each of user's available resources is
// gone: unavailable presence from each.
func (h *Handler) unavailableTo(ctx context.Context, user, contact jid.JID) {
	h.fromAvailable(ctx, user, contact, func(r router.Resource) *stanza.Stanza {
		return stanza.New(stanza.Presence, r.Session.JID(), contact, "unavailable", "")
	})
}

// fromAvailable routes one stanza per available resource of user to
// contact, built by mk (nil skips).
func (h *Handler) fromAvailable(ctx context.Context, user, contact jid.JID, mk func(r router.Resource) *stanza.Stanza) {
	if user == contact {
		return // own resources already know each other's presence
	}
	for _, r := range h.router.Resources(user) {
		if !r.Available {
			continue
		}
		if st := mk(r); st != nil {
			h.router.Send(ctx, st)
		}
	}
}
