package router

import (
	"context"
	"errors"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NSStanzaID is XEP-0359's namespace.
const NSStanzaID = "urn:xmpp:sid:0"

// Owed is what routing one stanza still owes the session that sent it
// (docs/design/06): the durable writes started for it, which the session
// waits for before it acknowledges the stanza (XEP-0198 <a/>), and the
// recipients whose outbound queues it pushed over their bound, which it
// waits for (bounded, Pay) before reading on, so that a fast sender is
// paced by a slow reader instead of getting it disconnected (docs/design/03).
type Owed struct {
	// Writes are the durable writes started for the stanza, in order.
	Writes []Write
	// Behind holds, per recipient over its bound, a channel closed when
	// its queue is back under it.
	Behind []<-chan struct{}
	// Batch is set by a sender that queues a batch of stanzas for many
	// sessions (a room's fan-out): sessions that can (Batched) queue
	// without starting their writer, and add to Wake the wakeups the
	// sender owes them, which it pays with WakeAll once its batch is
	// queued. A recipient then writes the whole batch at once instead of
	// once per wakeup while the batch was being queued (docs/design/03,
	// "Fan-out").
	Batch bool
	Wake  []Waker
}

// Batched is implemented by sessions whose writer can wait for the end
// of a sender's batch (Owed.Batch).
type Batched interface {
	// SendBatched is Send without starting the session's writer. It
	// returns the Waker the sender must wake after its batch, or nil
	// when none is owed to it (the writer runs and will take the
	// stanza, or an earlier batch owes the wakeup and will write this
	// stanza with its own).
	SendBatched(b []byte) (Waker, error)
}

// Waker starts a session's writer for what SendBatched queued.
type Waker interface {
	Wake()
}

// WakeAll wakes the sessions a batch queued for (Batch) and forgets them.
func (ow *Owed) WakeAll() {
	for _, w := range ow.Wake {
		w.Wake()
	}
	clear(ow.Wake)
	ow.Wake = ow.Wake[:0]
}

// Paced is implemented by sessions with a bounded outbound queue that
// accept stanzas past the bound for a while (up to a hard limit) and ask
// their senders to wait instead.
type Paced interface {
	// Behind returns nil while the queue is under its bound, else a
	// channel closed once it is back under.
	Behind() <-chan struct{}
}

// Route handles a stanza sent by a local user's session; its 'from' is
// already the session's full JID (RFC 6120 §8.1.2.1). The session pays
// what it returns (Owed) before reading its next stanza.
func (r *Router) Route(ctx context.Context, st *stanza.Stanza) Owed {
	var ow Owed
	r.route(ctx, st, &ow)
	return ow
}

// RouteInto is Route for a session that keeps one Owed across its
// stanzas: what st owes is appended to ow, whose slices the caller has
// emptied, so that a busy session allocates none per stanza.
func (r *Router) RouteInto(ctx context.Context, st *stanza.Stanza, ow *Owed) { r.route(ctx, st, ow) }

func (r *Router) route(ctx context.Context, st *stanza.Stanza, ow *Owed) {
	for _, i := range r.outbound {
		if err := i(ctx, st); err != nil {
			r.reject(ctx, st, err)
			return
		}
	}
	if st.Kind == stanza.Message {
		for _, o := range r.observers {
			if !r.owe(ctx, st, o.Outgoing(ctx, st), ow) {
				return
			}
		}
	}
	switch {
	case st.Kind == stanza.Presence && r.presence != nil:
		r.presence.Outbound(ctx, st)
	case st.Kind == stanza.IQ && (st.To.IsZero() || st.To == st.From.Bare()):
		// RFC 6120 §10.3.3: no 'to' (or the own bare JID) means the
		// account itself, which the server answers for.
		r.serverIQ(ctx, st)
	default:
		r.send(ctx, st, ow)
	}
}

// Send routes a stanza by its 'to' address: to a local user or the server
// itself (inbound processing), a component, or another domain.
func (r *Router) Send(ctx context.Context, st *stanza.Stanza) { r.send(ctx, st, nil) }

// SendInto is Send on behalf of a session that pays ow (Pay): a local
// recipient it pushes over its queue bound is added to ow.Behind, and an
// observer's write for st to ow.Writes. A room uses it for its fan-out,
// so that the occupant who spoke is paced by slow occupants.
func (r *Router) SendInto(ctx context.Context, st *stanza.Stanza, ow *Owed) { r.send(ctx, st, ow) }

// send is Send on behalf of a sending session that pays ow (nil: the
// server sends, nobody is paced).
func (r *Router) send(ctx context.Context, st *stanza.Stanza, ow *Owed) {
	to := st.To
	switch {
	case to.IsZero():
		return // nothing left to route to
	case to.Domain() == r.domain:
		r.inboundLocal(ctx, st, ow)
	case r.components[to.Domain()] != nil:
		r.components[to.Domain()](ctx, st)
	case r.remote != nil:
		if err := r.remote.Send(ctx, st); err != nil {
			r.reject(ctx, st, err)
		}
	default:
		r.bounce(ctx, st, stanza.ErrRemoteServerNotFound)
	}
}

func (r *Router) inboundLocal(ctx context.Context, st *stanza.Stanza, ow *Owed) {
	if st.To.IsDomain() {
		if st.Kind == stanza.IQ {
			r.serverIQ(ctx, st)
		}
		return // messages and presence to the server itself: nothing to do
	}
	for _, i := range r.inbound {
		if err := i(ctx, st); err != nil {
			r.reject(ctx, st, err)
			return
		}
	}
	switch st.Kind {
	case stanza.Presence:
		if r.presence != nil && r.exists(ctx, st.To) {
			r.presence.Inbound(ctx, st) // RFC 6121 §8.5.1: else ignore
		}
	case stanza.IQ:
		r.inboundIQ(ctx, st, ow)
	case stanza.Message:
		r.inboundMessage(ctx, st, ow)
	}
}

// inboundIQ: RFC 6121 §8.5.1, §8.5.2.1.3, §8.5.3.
func (r *Router) inboundIQ(ctx context.Context, st *stanza.Stanza, ow *Owed) {
	if st.To.IsBare() {
		if !r.exists(ctx, st.To) {
			r.bounce(ctx, st, stanza.ErrServiceUnavailable)
			return
		}
		r.serverIQ(ctx, st) // the server answers for the account
		return
	}
	if res, ok := r.table.session(st.To); ok && r.deliver(res.Session, st, ow) {
		return
	}
	r.bounce(ctx, st, stanza.ErrServiceUnavailable)
}

// inboundMessage: RFC 6121 §8.5.2.1.1 (bare), §8.5.3 (full).
func (r *Router) inboundMessage(ctx context.Context, st *stanza.Stanza, ow *Owed) {
	if !st.To.IsBare() {
		if res, ok := r.table.session(st.To); ok {
			// A groupchat message to an occupant carries the room's own
			// stanza-id; the user's server neither stamps nor archives it
			// (XEP-0313 §5: rooms archive themselves), and carbons skip it
			// (XEP-0280 §6).
			if st.Type != "groupchat" {
				r.stampID(st)
				if len(r.observers) > 0 && !r.observeIncoming(ctx, st, []Session{res.Session}, ow) {
					return
				}
			}
			if !r.deliver(res.Session, st, ow) {
				r.undelivered(ctx, st)
				return
			}
			r.arrived(ctx, st)
			return
		}
		switch st.Type {
		case "groupchat":
			r.bounce(ctx, st, stanza.ErrServiceUnavailable)
			return
		case "headline", "error":
			return
		}
		// normal and chat fall back to the bare JID (§8.5.3.2.1).
	}
	if !r.exists(ctx, st.To) {
		if st.Type == "" || st.Type == "normal" || st.Type == "chat" {
			r.bounce(ctx, st, stanza.ErrServiceUnavailable) // §8.5.1
		}
		return
	}
	switch st.Type {
	case "error":
		return
	case "groupchat":
		r.bounce(ctx, st, stanza.ErrServiceUnavailable)
		return
	}
	targets := r.mostAvailable(st.To, st.Type == "headline")
	if len(targets) == 0 {
		if st.Type == "headline" {
			return
		}
		r.toOffline(ctx, st, ow)
		return
	}
	r.stampID(st)
	if !r.observeIncoming(ctx, st, targets, ow) {
		return
	}
	delivered := false
	for _, s := range targets {
		delivered = r.deliver(s, st, ow) || delivered
	}
	if !delivered {
		r.undelivered(ctx, st)
		return
	}
	r.arrived(ctx, st)
}

// undelivered handles a message that every target session refused (it
// ended, or is too far behind): it goes to offline storage like a message
// for an unavailable user, or bounces, never nowhere (issue 10 item 2). It
// is stamped and observed already.
func (r *Router) undelivered(ctx context.Context, st *stanza.Stanza) {
	if r.offline == nil {
		r.bounce(ctx, st, stanza.ErrServiceUnavailable)
		return
	}
	st.SetTo(st.To.Bare()) // for whichever resource comes next
	r.storeOffline(ctx, st)
}

// mostAvailable picks the resources that get a message to a bare JID:
// those available with the highest non-negative priority, or for headlines
// every non-negative one (RFC 6121 §8.5.2.1.1).
func (r *Router) mostAvailable(bare jid.JID, all bool) []Session {
	var out []Session
	best := int8(-1)
	for _, res := range r.table.resources(bare) {
		if !res.Available || res.Priority < 0 {
			continue
		}
		switch {
		case all:
			out = append(out, res.Session)
		case res.Priority > best:
			best = res.Priority
			out = append(out[:0], res.Session)
		case res.Priority == best:
			out = append(out, res.Session)
		}
	}
	return out
}

func (r *Router) toOffline(ctx context.Context, st *stanza.Stanza, ow *Owed) {
	if r.offline == nil {
		r.bounce(ctx, st, stanza.ErrServiceUnavailable)
		return
	}
	r.stampID(st)
	if !r.observeIncoming(ctx, st, nil, ow) {
		return
	}
	r.storeOffline(ctx, st)
}

// storeOffline keeps a message for a user without a session to take it,
// or bounces it with the reason offline storage gives.
func (r *Router) storeOffline(ctx context.Context, st *stanza.Stanza) {
	if err := r.offline.StoreOffline(ctx, st); err != nil {
		r.reject(ctx, st, err)
		return
	}
	r.arrived(ctx, st)
}

// stampID adds the XEP-0359 stanza id by which the recipient's server
// knows the message, after removing any id that claims to be ours
// (XEP-0359 §5: a forged id must not be passed on).
func (r *Router) stampID(st *stanza.Stanza) {
	if st.Kind != stanza.Message || st.Type == "error" {
		return
	}
	by := st.To.Bare()
	st.RemoveChildren(func(c *xmlstream.Element) bool { return IsStanzaIDBy(c, by) })
	st.AddChild(xmlstream.New("stanza-id", NSStanzaID, "id", stanza.NewID(), "by", by.String()))
}

// IsStanzaIDBy reports whether c is a XEP-0359 stanza-id that claims to be
// by the entity by, comparing addresses as RFC 7622 normalises them, so
// that a forged <stanza-id by='JULIET@Example.com'/> is recognised as
// claiming to be juliet@example.com's (issue 10 item 12).
func IsStanzaIDBy(c *xmlstream.Element, by jid.JID) bool {
	if c.Name != "stanza-id" || c.Space != NSStanzaID {
		return false
	}
	v := c.Get("by")
	if v == by.String() {
		return true
	}
	j, err := jid.Parse(v)
	return err == nil && j == by
}

// observeIncoming tells observers of a message for a local user, after
// its stanza id is stamped and before it is delivered. It reports false
// when the message must not be delivered (compliance mode, a write
// failed: it was bounced).
func (r *Router) observeIncoming(ctx context.Context, st *stanza.Stanza, to []Session, ow *Owed) bool {
	for _, o := range r.observers {
		if !r.owe(ctx, st, o.Incoming(ctx, st, to), ow) {
			return false
		}
	}
	return true
}

// owe hands an observer's write for st to the sender's Owed, or waits for
// it when there is no sender or in compliance mode (RequireWrites), where
// a failed write bounces st with resource-constraint and owe reports false:
// nothing is delivered that the archive does not hold.
func (r *Router) owe(ctx context.Context, st *stanza.Stanza, w Write, ow *Owed) bool {
	switch {
	case w == nil:
	case r.requireWrites:
		if r.await(w) != nil {
			r.bounce(ctx, st, errNotStored)
			return false
		}
	case ow != nil:
		ow.Writes = append(ow.Writes, w)
	default:
		r.await(w)
	}
	return true
}

// errNotStored answers a message that could not be stored durably: retry
// later (RFC 6120 §8.3.3.18, type wait).
var errNotStored = stanza.ErrResourceConstraint.WithText("the message could not be stored; try again later")

// serverIQ dispatches an IQ to the handler of its payload namespace.
func (r *Router) serverIQ(ctx context.Context, st *stanza.Stanza) {
	if st.Type != "get" && st.Type != "set" {
		r.answered(st) // results and errors: a Query may wait for it
		return
	}
	h := r.iq[st.Payload().Space]
	if h == nil {
		r.bounce(ctx, st, stanza.ErrServiceUnavailable)
		return
	}
	payload, err := h(ctx, st)
	switch {
	case errors.Is(err, ErrNoReply):
	case err != nil:
		r.reject(ctx, st, err)
	default:
		r.Reply(ctx, stanza.Result(st, payload))
	}
}

// Reply sends a response generated by the server back to its requester.
func (r *Router) Reply(ctx context.Context, st *stanza.Stanza) {
	if st == nil {
		return
	}
	if r.IsLocal(st.To) && !st.To.IsBare() {
		r.DeliverTo(st.To, st) // a reply skips the recipient's filters
		return
	}
	r.Send(ctx, st)
}

// reject turns an interceptor's or handler's error into a bounce.
func (r *Router) reject(ctx context.Context, st *stanza.Stanza, err error) {
	if errors.Is(err, ErrDrop) {
		return
	}
	if errors.Is(err, ErrWriteFailed) {
		r.wrote(err)
	}
	var se *stanza.Error
	if !errors.As(err, &se) {
		r.log.Error("routing failed", "kind", st.Kind.String(), "err", err)
		se = stanza.ErrInternalServerError
	}
	r.bounce(ctx, st, se)
}

// bounce answers a stanza with an error, unless it is one itself.
func (r *Router) bounce(ctx context.Context, st *stanza.Stanza, e *stanza.Error) {
	if r.OnError != nil {
		r.OnError(e.Condition())
	}
	reply := stanza.ErrorReply(st, e)
	if reply == nil || st.From.IsZero() {
		return
	}
	r.Reply(ctx, reply)
}

// DeliverTo sends a stanza straight to one bound session, bypassing the
// routing rules (the caller has decided, e.g. presence broadcast).
func (r *Router) DeliverTo(full jid.JID, st *stanza.Stanza) bool {
	res, ok := r.table.session(full)
	if ok {
		r.deliver(res.Session, st, nil)
	}
	return ok
}

// DeliverPaced is DeliverTo for what the server generates in bulk for one
// session (archive pages, stored items): while the session's queue is over
// its bound it waits, up to PaceWait or the end of ctx, so that a large
// reply is built within the bound instead of overflowing it (issue 10
// item 3).
func (r *Router) DeliverPaced(ctx context.Context, full jid.JID, st *stanza.Stanza) bool {
	res, ok := r.table.session(full)
	if !ok {
		return false
	}
	if p, ok := res.Session.(Paced); ok {
		if ch := p.Behind(); ch != nil {
			Pay(ctx, Owed{Behind: []<-chan struct{}{ch}})
		}
	}
	return r.deliver(res.Session, st, nil)
}

// PaceWait bounds how long a sender waits for slow recipients: past it the
// sender reads on, and a recipient that stays over its bound is closed by
// its own session's slow-client timeout.
const PaceWait = 5 * time.Second

// Pay waits until every recipient in ow.Behind is back under its bound,
// for at most PaceWait or until ctx ends.
func Pay(ctx context.Context, ow Owed) {
	if len(ow.Behind) == 0 {
		return
	}
	t := time.NewTimer(PaceWait)
	defer t.Stop()
	for _, ch := range ow.Behind {
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// DeliverTracked sends a stanza straight to one bound session and reports,
// through done, whether its client got it (see Tracked; a session that
// cannot tell counts as done once queued). It returns false, without
// calling done, when no session is bound to full or it refused the stanza.
func (r *Router) DeliverTracked(full jid.JID, st *stanza.Stanza, done func(delivered bool)) bool {
	res, ok := r.table.session(full)
	if !ok {
		return false
	}
	if t, ok := res.Session.(Tracked); ok {
		return t.SendTracked(st.Bytes(), done) == nil
	}
	if res.Session.Send(st.Bytes()) != nil {
		return false
	}
	done(true)
	return true
}

// deliver queues a stanza for a session and reports whether it took it;
// a session it pushed over its queue bound is owed a wait by the sender,
// and in a batch (Owed.Batch) one it did not wake is owed a wakeup.
func (r *Router) deliver(s Session, st *stanza.Stanza, ow *Owed) bool {
	var err error
	if b, ok := s.(Batched); ok && ow != nil && ow.Batch {
		var w Waker
		if w, err = b.SendBatched(st.Bytes()); w != nil {
			ow.Wake = append(ow.Wake, w)
		}
	} else {
		err = s.Send(st.Bytes())
	}
	if err != nil {
		r.log.Debug("delivery failed", "to", s.JID().String(), "err", err)
		return false
	}
	if ow != nil {
		if p, ok := s.(Paced); ok {
			if ch := p.Behind(); ch != nil {
				ow.Behind = append(ow.Behind, ch)
			}
		}
	}
	return true
}

// exists reports whether a local bare JID is an account. A bound session
// proves it without a store lookup.
func (r *Router) exists(ctx context.Context, j jid.JID) bool {
	if j.Local() == "" {
		return false
	}
	if len(r.table.resources(j)) > 0 {
		return true
	}
	if r.accounts == nil {
		return false
	}
	ok, err := r.accounts.Exists(ctx, j.Local())
	if err != nil {
		r.log.Error("account lookup failed", "jid", j.Bare().String(), "err", err)
	}
	return ok
}
