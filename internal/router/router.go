// Package router delivers stanzas between local sessions, server modules and
// (later) other nodes and servers, following the rules of RFC 6121 §8.
//
// The router knows no feature: modules register IQ handlers by payload
// namespace, one presence handler, an offline store and interceptors. It
// holds the session table, sharded by bare JID, with each session's presence
// state so that message routing needs no other lookup.
//
// How modules plug in (handlers, interceptors, tests with fake sessions):
// docs/design/02_modules.md.
package router

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// IQHandler answers an IQ get/set addressed to the server, or to a local
// account on its behalf. It returns the result payload (nil for an empty
// result) or a *stanza.Error. Returning ErrNoReply means the handler has sent
// the reply itself (or will).
type IQHandler func(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error)

// ErrNoReply is returned by an IQHandler that answers on its own.
var ErrNoReply = errors.New("router: handler replies itself")

// ErrDrop is returned by an interceptor to discard a stanza silently.
var ErrDrop = errors.New("router: drop")

// Interceptor inspects a stanza before it is routed. It returns nil to let
// it pass, ErrDrop to discard it, or a *stanza.Error to bounce it.
type Interceptor func(ctx context.Context, st *stanza.Stanza) error

// PresenceHandler owns presence (RFC 6121 §3-4): broadcasts, probes,
// subscriptions and directed presence.
type PresenceHandler interface {
	// Outbound handles presence sent by a local user's session.
	Outbound(ctx context.Context, st *stanza.Stanza)
	// Inbound handles presence addressed to a local account (full or bare).
	Inbound(ctx context.Context, st *stanza.Stanza)
}

// A session's end is not part of PresenceHandler: presence subscribes to
// it (OnSessionEnded) like every module that keeps per-session state.

// Offline stores a message for a user without available resources
// (XEP-0160). It returns a *stanza.Error to bounce the message (e.g. the
// storage limit is reached).
type Offline interface {
	StoreOffline(ctx context.Context, st *stanza.Stanza) error
}

// Accounts tells whether a username has an account on this server.
type Accounts interface {
	Exists(ctx context.Context, username string) (bool, error)
}

// Write is a durable write in progress (an archive commit): it yields nil
// once the write is durable, or its error, exactly once. A nil Write owes
// nothing. See docs/design/06_durability.md.
type Write = <-chan error

// MessageObserver sees the messages of local users: archiving (XEP-0313)
// and carbons (XEP-0280) are observers. Calls are synchronous on the
// sender's routing path; an observer that starts a durable write returns
// it, and the router hands it to the sending session, which waits for it
// before acknowledging the message (XEP-0198), or waits itself.
type MessageObserver interface {
	// Outgoing is called for a message a local user sends, after the
	// outbound interceptors passed it and before it is routed; st.From is
	// the sender's full JID.
	Outgoing(ctx context.Context, st *stanza.Stanza) Write
	// Incoming is called for a message addressed to a local user after the
	// router stamped its XEP-0359 stanza-id (by = the user's bare JID) and
	// before delivery to the sessions in to; to is empty when the message
	// goes to offline storage.
	Incoming(ctx context.Context, st *stanza.Stanza, to []Session) Write
}

// ErrWriteFailed marks an error of a durable write (offline storage, the
// archive), so that the router reports it (log, OnWriteFailure, Health)
// besides bouncing the stanza.
var ErrWriteFailed = errors.New("durable write failed")

// Remote delivers to other domains (s2s or another node); nil until
// federation exists.
type Remote interface {
	Send(ctx context.Context, st *stanza.Stanza) error
}

// Router routes stanzas. Register everything before the first session is
// bound; the registries are not guarded against concurrent change.
type Router struct {
	domain     string
	domainJID  jid.JID
	table      *table
	iq         map[string]IQHandler
	components map[string]func(context.Context, *stanza.Stanza)
	presence   PresenceHandler
	offline    Offline
	accounts   Accounts
	remote     Remote
	outbound   []Interceptor
	inbound    []Interceptor
	observers  []MessageObserver
	endedSubs  []func(context.Context, SessionEnded)
	unattended []func(context.Context, []*stanza.Stanza)
	features   []string
	queries    queries
	log        *slog.Logger

	requireWrites bool                  // compliance mode: deliver only what is durable
	lastWrite     atomic.Pointer[error] // the last awaited write's failure; nil after a success

	// OnError, if set, counts routing errors by condition (metrics).
	OnError func(condition string)
	// OnWriteFailure, if set, counts failed durable writes (metrics).
	OnWriteFailure func()
}

// New returns a router for a domain.
func New(domain jid.JID, accounts Accounts, log *slog.Logger) *Router {
	if log == nil {
		log = slog.Default()
	}
	return &Router{
		domain:     domain.String(),
		domainJID:  domain,
		table:      newTable(),
		iq:         make(map[string]IQHandler),
		components: make(map[string]func(context.Context, *stanza.Stanza)),
		accounts:   accounts,
		log:        log,
	}
}

// Domain is the server's domain.
func (r *Router) Domain() jid.JID { return r.domainJID }

// HandleIQ registers the handler for IQ get/set payloads of a namespace.
func (r *Router) HandleIQ(space string, h IQHandler) { r.iq[space] = h }

// HandleDomain sends every stanza for a subdomain (a component such as
// conference.example.com) to h.
func (r *Router) HandleDomain(domain string, h func(context.Context, *stanza.Stanza)) {
	r.components[domain] = h
}

// SetPresence installs the presence handler.
func (r *Router) SetPresence(p PresenceHandler) { r.presence = p }

// SetOffline installs offline storage.
func (r *Router) SetOffline(o Offline) { r.offline = o }

// SetRemote installs delivery to other domains.
func (r *Router) SetRemote(rm Remote) { r.remote = rm }

// InterceptOutbound adds a check on stanzas sent by local users.
func (r *Router) InterceptOutbound(i Interceptor) { r.outbound = append(r.outbound, i) }

// InterceptInbound adds a check on stanzas addressed to local users.
func (r *Router) InterceptInbound(i Interceptor) { r.inbound = append(r.inbound, i) }

// ObserveMessages adds a message observer.
func (r *Router) ObserveMessages(o MessageObserver) { r.observers = append(r.observers, o) }

// RequireWrites turns compliance mode on (`[archive] required`): a message
// is delivered only after every observer's write for it is durable, and
// bounces with resource-constraint when one fails (docs/design/06).
func (r *Router) RequireWrites(on bool) { r.requireWrites = on }

// Await waits for writes in order, reports each outcome (a failure is
// logged, counted and kept for Health) and returns the failures.
func (r *Router) Await(ws []Write) error {
	var errs []error
	for _, w := range ws {
		if err := r.await(w); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Router) await(w Write) error {
	err := <-w
	r.wrote(err)
	return err
}

// wrote records the outcome of a durable write.
func (r *Router) wrote(err error) {
	if err == nil {
		if r.lastWrite.Load() != nil {
			r.lastWrite.Store(nil)
		}
		return
	}
	r.log.Error("durable write failed", "err", err)
	r.lastWrite.Store(&err)
	if r.OnWriteFailure != nil {
		r.OnWriteFailure()
	}
}

// WriteHealth returns the error of the last durable write when it failed
// (no write has succeeded since), for /healthz; nil otherwise.
func (r *Router) WriteHealth() error {
	if p := r.lastWrite.Load(); p != nil {
		return *p
	}
	return nil
}

// AddFeature advertises a service discovery feature of the server
// (XEP-0030); disco reads Features.
func (r *Router) AddFeature(vars ...string) { r.features = append(r.features, vars...) }

// Features lists the registered features.
func (r *Router) Features() []string { return r.features }

// Bind adds a session to the table. A session already bound to the same
// full JID is told to go (RFC 6120 §7.7.2.2, "override the existing
// session").
//
// The replaced session has ended for the subscribers of OnSessionEnded
// when Bind returns (its own later Unbind does nothing), so state they
// keep by full JID is gone before the new session can set any.
func (r *Router) Bind(s Session) {
	old, last := r.table.bind(s)
	if old == nil {
		return
	}
	old.Terminate(stanza.ErrStreamConflict.WithText("replaced by a new session"))
	r.ended(context.Background(), SessionEnded{JID: old.JID(), Last: last})
}

// SessionEnded tells that a bound session went away for good (closed,
// failed, replaced, or its XEP-0198 resumption expired): JID is its full
// JID, Last the state it had when it was unbound.
type SessionEnded struct {
	JID  jid.JID
	Last Resource
}

// OnSessionEnded subscribes f to session ends. Modules that keep state per
// session (carbons, blocking pushes, PEP interests, directed presence) drop
// it there instead of pruning lazily; presence broadcasts the unavailable
// presence of a session that ended without sending it. Subscribers run in
// the order they subscribed, on the ending session's goroutine (or in
// Bind, for a session replaced by another on the same resource), once per
// session; they must not block for long.
func (r *Router) OnSessionEnded(f func(ctx context.Context, e SessionEnded)) {
	r.endedSubs = append(r.endedSubs, f)
}

// OnLastSessionEnded subscribes f, as OnSessionEnded does, to the ends of
// a user's last session: modules that keep state per user while the user
// is online (spam's counts, vCard avatar hashes) drop it there.
func (r *Router) OnLastSessionEnded(f func(ctx context.Context, user jid.JID)) {
	r.OnSessionEnded(func(ctx context.Context, e SessionEnded) {
		if bare := e.JID.Bare(); len(r.Resources(bare)) == 0 {
			f(ctx, bare)
		}
	})
}

// Unbind removes a session and tells the subscribers of OnSessionEnded.
// Only the first Unbind of a bound session does anything.
func (r *Router) Unbind(ctx context.Context, s Session) {
	res, ok := r.table.unbind(s)
	if !ok {
		return
	}
	r.ended(ctx, SessionEnded{JID: s.JID(), Last: res})
}

// Hibernating is implemented by sessions that stay bound while their
// client is away: XEP-0198 keeps a session whose connection was lost
// waiting for a resumption, and queues what arrives for it meanwhile.
type Hibernating interface {
	// Hibernated reports whether the session has no connection now.
	Hibernated() bool
}

// OnUnattended subscribes f to the messages that reach a local account
// while none of its sessions has a client connected: stored offline
// (XEP-0160) or queued for sessions that hibernate (Hibernating), and
// those a session's client had not acknowledged when it began to
// hibernate (Hibernate). Push notifications (XEP-0357) hook here. f gets
// messages of one account (any type but error), oldest first, after they
// were stored or queued: one as it arrives, or all those a session held
// at once; it runs on the routing path, so it must not block (start slow
// work elsewhere) nor change them.
func (r *Router) OnUnattended(f func(ctx context.Context, msgs []*stanza.Stanza)) {
	r.unattended = append(r.unattended, f)
}

// arrived tells the subscribers of OnUnattended of a message stored or
// queued for a local account, if no session of the account has a client
// connected.
func (r *Router) arrived(ctx context.Context, st *stanza.Stanza) {
	if len(r.unattended) == 0 || st.Type == "error" {
		return
	}
	r.tellUnattended(ctx, st.To, []*stanza.Stanza{st})
}

// tellUnattended calls the subscribers of OnUnattended with msgs for to's
// account, unless one of its sessions has a client connected.
func (r *Router) tellUnattended(ctx context.Context, to jid.JID, msgs []*stanza.Stanza) {
	if len(msgs) == 0 || r.table.attended(to.Bare()) {
		return // a client is there to get them
	}
	for _, f := range r.unattended {
		f(ctx, msgs)
	}
}

// Hibernate is called by a session of full that has just begun to
// hibernate (its connection was lost; XEP-0198 keeps it for a
// resumption) with the stanzas its client had not acknowledged, as
// written. The messages among them were sent while the client was
// connected, so OnUnattended did not see them; the client may never have
// got them (XEP-0198 §5: a phone that lost its network), so unless another
// session of the account has a client, the subscribers get them now, in
// one call: a push wakes the phone to resume and fetch them.
func (r *Router) Hibernate(ctx context.Context, full jid.JID, unacked [][]byte) {
	if len(r.unattended) == 0 {
		return
	}
	scope := xmlstream.NewScope(stanza.NSClient)
	var msgs []*stanza.Stanza
	for _, b := range unacked {
		el, err := xmlstream.ParseIn(b, xmlstream.Limits{}, scope)
		if err != nil {
			continue // not ours to judge: offline.Requeue sees it too
		}
		st, err := stanza.Parse(el)
		if err != nil || st.Kind != stanza.Message || st.Type == "error" {
			continue
		}
		if st.To.IsZero() {
			st.SetTo(full)
		}
		msgs = append(msgs, st)
	}
	r.tellUnattended(ctx, full, msgs)
}

func (r *Router) ended(ctx context.Context, e SessionEnded) {
	for _, f := range r.endedSubs {
		f(ctx, e)
	}
}

// SetAvailability records a session's presence: available with a priority
// and the stanza to answer probes with, or unavailable (raw nil).
func (r *Router) SetAvailability(full jid.JID, available bool, priority int8, raw []byte) {
	r.table.update(full, func(e *entry) {
		e.Available, e.Priority, e.Presence = available, priority, raw
	})
}

// SetInterested marks a session as having requested the roster, so it gets
// roster pushes (RFC 6121 §2.1.6).
func (r *Router) SetInterested(full jid.JID) {
	r.table.update(full, func(e *entry) { e.Interested = true })
}

// Resources returns the sessions of a local user.
func (r *Router) Resources(bare jid.JID) []Resource { return r.table.resources(bare) }

// Lookup returns the session bound to a full JID.
func (r *Router) Lookup(full jid.JID) (Resource, bool) { return r.table.session(full) }

// Users returns the bare JIDs of the local users with a bound session, in
// no particular order (service administration, XEP-0133).
func (r *Router) Users() []jid.JID { return r.table.users() }

// SessionCount is the number of bound sessions.
func (r *Router) SessionCount() int { return r.table.count() }

// IsLocal reports whether a JID is on this server's domain.
func (r *Router) IsLocal(j jid.JID) bool { return j.Domain() == r.domain }
