package presence

import (
	"context"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// broadcast handles available or unavailable presence without 'to'
// (RFC 6121 §4.2, §4.4, §4.5).
func (h *Handler) broadcast(ctx context.Context, st *stanza.Stanza) {
	full := st.From
	prev, bound := h.router.Lookup(full)
	if !bound {
		return // the session is gone; its SessionEnded event speaks for it
	}
	if st.Type == "unavailable" {
		h.router.SetAvailability(full, false, 0, nil)
		if h.OnUnavailable != nil {
			h.OnUnavailable(full)
		}
		directed := h.take(full)
		if !prev.Available && len(directed) == 0 {
			return // never announced: nobody to tell
		}
		h.broadcastUnavailable(ctx, st, prev.Available, directed)
		// §4.5.2: the resource that sent it gets it too.
		h.router.DeliverTo(full, addressed(st, full))
		return
	}
	prio := priority(st)
	// Record availability first, so that probes answered and messages
	// routed from here on see the session as available.
	h.router.SetAvailability(full, true, prio, st.Bytes())
	subscribers, publishers, err := h.roster.Audience(ctx, full.Bare())
	if err != nil {
		h.log.Error("presence: roster unavailable", "jid", full.Bare().String(), "err", err)
	}
	// §4.2.2, §4.4.2: to every subscriber, from the full JID.
	for _, c := range subscribers {
		if c != full.Bare() { // own resources are served below
			h.router.Send(ctx, addressed(st, c))
		}
	}
	// §4.2.2: to all the user's available resources, including the one
	// that sent it (an entity is implicitly subscribed to itself).
	h.toOwn(full.Bare(), st)
	if !prev.Available {
		h.initial(ctx, full, prio, publishers)
	}
	if h.OnAvailable != nil {
		h.OnAvailable(ctx, st, !prev.Available)
	}
}

// initial completes initial presence (RFC 6121 §4.2.2): probes, the
// presence of the user's other resources, and stored subscription requests.
func (h *Handler) initial(ctx context.Context, full jid.JID, prio int8, publishers []jid.JID) {
	bare := full.Bare()
	for _, c := range publishers {
		if c == bare {
			continue
		}
		// §4.3.1: a probe goes from the bare JID. For a local contact we
		// probe from the new session's full JID instead, so the answers
		// reach only that session rather than every resource of the
		// user, which already has them; remote contacts get the standard
		// bare probe.
		from := bare
		if h.router.IsLocal(c) {
			from = full
		}
		h.router.Send(ctx, stanza.New(stanza.Presence, from, c, "probe", ""))
	}
	// The new session learns of the user's other available resources.
	for _, r := range h.router.Resources(bare) {
		other := r.Session.JID()
		if other == full || !r.Available {
			continue
		}
		if last := r.LastPresence(); last != nil {
			h.router.DeliverTo(full, addressed(last, full))
		}
	}
	h.redeliverPending(ctx, full)
	if h.OnInitialPresence != nil {
		h.OnInitialPresence(ctx, full, prio)
	}
}

// redeliverPending sends stored inbound subscription requests to a session
// that just became available (RFC 6121 §3.1.3: the contact's server MUST
// deliver the request when the contact next has an available resource).
func (h *Handler) redeliverPending(ctx context.Context, full jid.JID) {
	items, err := h.roster.Items(ctx, full.Bare())
	if err != nil {
		h.log.Error("presence: roster unavailable", "jid", full.Bare().String(), "err", err)
		return
	}
	for _, it := range items {
		if !it.PendingIn || len(it.PendingInStanza) == 0 {
			continue
		}
		el, err := xmlstream.ParseIn(append([]byte(nil), it.PendingInStanza...), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			h.log.Error("presence: stored request unreadable", "jid", full.Bare().String(), "contact", it.JID, "err", err)
			continue
		}
		st, err := stanza.Parse(el)
		if err != nil {
			continue
		}
		h.router.DeliverTo(full, st)
	}
}

// broadcastUnavailable sends unavailable presence from a session to its
// subscribers (if it was available) and to everything it sent directed
// presence to (RFC 6121 §4.5.2, §4.6.3), each once, and to the user's
// other available resources.
func (h *Handler) broadcastUnavailable(ctx context.Context, un *stanza.Stanza, wasAvailable bool, directed map[jid.JID]struct{}) {
	full := un.From
	sent := make(map[jid.JID]struct{}, len(directed))
	if wasAvailable {
		subscribers, _, err := h.roster.Audience(ctx, full.Bare())
		if err != nil {
			h.log.Error("presence: roster unavailable", "jid", full.Bare().String(), "err", err)
		}
		for _, c := range subscribers {
			if c != full.Bare() {
				sent[c] = struct{}{}
				h.router.Send(ctx, addressed(un, c))
			}
		}
	}
	for to := range directed {
		if _, ok := sent[to.Bare()]; ok && to.IsBare() {
			continue
		}
		if _, ok := sent[to]; ok {
			continue
		}
		sent[to] = struct{}{}
		h.router.Send(ctx, addressed(un, to))
	}
	if wasAvailable {
		for _, r := range h.router.Resources(full.Bare()) {
			if r.Available && r.Session.JID() != full {
				h.router.DeliverTo(r.Session.JID(), addressed(un, r.Session.JID()))
			}
		}
	}
}

// directed handles availability presence with a 'to' (RFC 6121 §4.6): it
// is routed as is, and the target remembered until unavailable follows.
func (h *Handler) directed(ctx context.Context, st *stanza.Stanza) {
	full := st.From
	refused, max := false, h.MaxDirected
	defaults.Positive(&max, DefaultMaxDirected)
	h.mu.Lock()
	d := h.sent[full]
	switch _, known := d[st.To]; {
	case st.Type == "unavailable":
		delete(d, st.To)
		if len(d) == 0 {
			delete(h.sent, full)
		}
	case st.To.Bare() == full.Bare() || known:
	case len(d) >= max:
		refused = true
	default:
		if d == nil {
			d = make(map[jid.JID]struct{})
			h.sent[full] = d
		}
		d[st.To] = struct{}{}
	}
	h.mu.Unlock()
	if refused {
		// Sending it unremembered would leave the entity believing the
		// session available after it ends (§4.6.3); a limit is local
		// policy (RFC 6120 §8.3.3.12).
		h.log.Info("presence: directed presence limit reached", "jid", full.String(), "max", max)
		h.router.Send(ctx, stanza.ErrorReply(st, stanza.ErrPolicyViolation.WithText("too many entities hold directed presence from this session")))
		return
	}
	h.router.Send(ctx, st)
}

// Directed is how many entities a session's directed presence is
// remembered for (the bound MaxDirected sets).
func (h *Handler) Directed(full jid.JID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sent[full])
}

// Sessions is how many sessions the handler keeps state for: those with
// directed presence outstanding.
func (h *Handler) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sent)
}

// answerProbe answers a probe of a local user (RFC 6121 §4.3.2).
func (h *Handler) answerProbe(ctx context.Context, user, prober jid.JID) {
	if prober.IsZero() {
		return
	}
	if prober.Bare() != user {
		it, ok, err := h.roster.Item(ctx, user, prober)
		if err != nil {
			h.log.Error("presence: roster unavailable", "jid", user.String(), "err", err)
			return
		}
		if !ok || !hasFrom(it.Subscription) {
			// §4.3.2: not a subscriber: "unsubscribed", which lets the
			// prober's server repair its state (§3.2). Pre-approval is
			// not touched.
			h.router.Send(ctx, stanza.New(stanza.Presence, user, prober.Bare(), "unsubscribed", ""))
			return
		}
	}
	answered := false
	for _, r := range h.router.Resources(user) {
		if last := r.LastPresence(); last != nil {
			h.router.Send(ctx, addressed(last, prober))
			answered = true
		}
	}
	if !answered {
		// §4.3.2: no available resource: unavailable from the bare JID.
		h.router.Send(ctx, stanza.New(stanza.Presence, user, prober, "unavailable", ""))
	}
}

// toOwn sends a user's own presence to each of the user's available
// resources, addressed to it.
func (h *Handler) toOwn(bare jid.JID, st *stanza.Stanza) {
	for _, r := range h.router.Resources(bare) {
		if r.Available {
			h.router.DeliverTo(r.Session.JID(), addressed(st, r.Session.JID()))
		}
	}
}

// addressed copies st with a new 'to'.
func addressed(st *stanza.Stanza, to jid.JID) *stanza.Stanza {
	c := st.Copy()
	c.SetTo(to)
	return c
}
