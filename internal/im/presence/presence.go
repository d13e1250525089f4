package presence

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"parley/internal/im/roster"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
)

// Router is what presence needs of the router; *router.Router has it.
type Router interface {
	Send(ctx context.Context, st *stanza.Stanza)
	DeliverTo(full jid.JID, st *stanza.Stanza) bool
	Resources(bare jid.JID) []router.Resource
	Lookup(full jid.JID) (router.Resource, bool)
	SetAvailability(full jid.JID, available bool, priority int8, raw []byte)
	IsLocal(j jid.JID) bool
}

// Options are the handler's dependencies and limits.
type Options struct {
	// Roster is the roster module: subscription state and audiences.
	Roster *roster.Module
	// MaxDirected is how many entities one session may have sent
	// directed available presence to at once (RFC 6121 §4.6); 0 means
	// DefaultMaxDirected.
	MaxDirected int
	Log         *slog.Logger // nil: slog.Default()
}

// Handler is the router.PresenceHandler.
//
// A session's availability, priority and last available presence live in
// the router's table (Router.SetAvailability, Resource.Presence), where
// routing reads them; the handler keeps only what the table does not:
// the entities a session sent directed presence to.
type Handler struct {
	router Router
	roster *roster.Module
	log    *slog.Logger

	// OnInitialPresence, if set, is called after a session's initial
	// presence has been broadcast (offline message delivery hooks here).
	OnInitialPresence func(ctx context.Context, full jid.JID, priority int8)
	// OnAvailable, if set, is called after a session's available
	// presence (st, from its full JID) has been broadcast; initial tells
	// whether the session was unavailable before. PEP reads entity
	// capabilities (XEP-0115) here.
	OnAvailable func(ctx context.Context, st *stanza.Stanza, initial bool)
	// OnUnavailable, if set, is called when a session that stays
	// connected sends unavailable presence. A session's end is told by
	// the router (Router.OnSessionEnded).
	OnUnavailable func(full jid.JID)
	// OnRemote, if set, is called with available and unavailable
	// presence from a remote entity's full JID to a local account,
	// after its delivery. PEP learns remote contacts' caps here.
	OnRemote func(ctx context.Context, st *stanza.Stanza)
	// MaxDirected is Options.MaxDirected. Set before use.
	MaxDirected int

	mu sync.Mutex // guards sent
	// sent holds, by session (full JID), the entities that got directed
	// available presence from it and must get unavailable presence when
	// it goes (§4.6.3).
	sent map[jid.JID]map[jid.JID]struct{}
}

var _ router.PresenceHandler = (*Handler)(nil)

// DefaultMaxDirected bounds the directed presence remembered per session
// unless Handler.MaxDirected says otherwise. Each entry is a promise of
// unavailable presence at the session's end (RFC 6121 §4.6.3), so beyond
// it directed available presence is refused rather than sent and
// forgotten (docs/SECURITY.md).
const DefaultMaxDirected = 1000

// New returns a presence handler; install it with Register.
func New(o Options) *Handler {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	return &Handler{roster: o.Roster, log: log, MaxDirected: o.MaxDirected, sent: make(map[jid.JID]map[jid.JID]struct{})}
}

// Register makes h the router's presence handler and subscribes it to
// session ends, where it speaks for a session that went away.
func (h *Handler) Register(r *router.Router) {
	h.router = r
	r.SetPresence(h)
	r.OnSessionEnded(h.sessionEnded)
}

// Outbound handles presence from a local session; st.From is its full JID.
func (h *Handler) Outbound(ctx context.Context, st *stanza.Stanza) {
	switch st.Type {
	case "", "unavailable":
		if st.To.IsZero() {
			h.broadcast(ctx, st)
		} else {
			h.directed(ctx, st)
		}
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		if st.To.IsZero() {
			return
		}
		h.outboundSubscription(ctx, st)
	case "probe":
		// §4.3: probes are the server's business; one from a client is
		// passed on as the server would send it, from the bare JID.
		if !st.To.IsZero() {
			h.router.Send(ctx, bareAddressed(st))
		}
	case "error":
		if !st.To.IsZero() {
			h.router.Send(ctx, st)
		}
	}
	// Any other type is not presence (RFC 6121 §4.7.1): dropped.
}

// Inbound handles presence addressed to a local account.
func (h *Handler) Inbound(ctx context.Context, st *stanza.Stanza) {
	switch st.Type {
	case "", "unavailable", "error":
		h.deliver(st)
		if h.OnRemote != nil && st.Type != "error" && !st.From.IsBare() && !h.router.IsLocal(st.From) {
			h.OnRemote(ctx, st)
		}
	case "probe":
		h.answerProbe(ctx, st.To.Bare(), st.From)
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		if st.From.IsZero() {
			return
		}
		h.inboundSubscription(ctx, st)
	}
}

// sessionEnded broadcasts unavailable presence for a session that ended
// without sending it, closed or replaced (RFC 6121 §4.5.2: the server
// generates it on the user's behalf), and drops what the handler kept of
// it.
func (h *Handler) sessionEnded(ctx context.Context, e router.SessionEnded) {
	full := e.JID
	directed := h.take(full)
	if e.Last.Available || len(directed) > 0 {
		un := stanza.New(stanza.Presence, full, jid.JID{}, "unavailable", "")
		h.broadcastUnavailable(ctx, un, e.Last.Available, directed)
	}
	if len(h.router.Resources(full.Bare())) == 0 {
		h.roster.Forget(full.Bare())
	}
}

// deliver hands inbound availability presence to the user's sessions:
// for a bare JID all available resources (RFC 6121 §8.5.2.1.2), for a
// full JID only that session, if bound (§8.5.3.1; else ignored, §8.5.3.2.3).
func (h *Handler) deliver(st *stanza.Stanza) {
	if !st.To.IsBare() {
		h.router.DeliverTo(st.To, st)
		return
	}
	h.toAvailable(st.To, st)
}

// toAvailable sends st to each available resource of a user.
func (h *Handler) toAvailable(bare jid.JID, st *stanza.Stanza) {
	for _, r := range h.router.Resources(bare) {
		if r.Available {
			h.router.DeliverTo(r.Session.JID(), st)
		}
	}
}

// priority reads <priority/> (RFC 6121 §4.7.2.3): an integer from -128 to
// 127, 0 when absent or invalid.
func priority(st *stanza.Stanza) int8 {
	for _, c := range st.El.Children {
		if c.Name != "priority" || (c.Space != stanza.NSClient && c.Space != stanza.NSServer) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(c.Text))
		if err != nil || n < -128 || n > 127 {
			return 0
		}
		return int8(n)
	}
	return 0
}

// bareAddressed copies st with from and to reduced to bare JIDs, as
// subscription stanzas and probes travel (RFC 6121 §3.1.2, §4.3.1).
func bareAddressed(st *stanza.Stanza) *stanza.Stanza {
	c := st.Copy()
	if !st.From.IsBare() {
		c.SetFrom(st.From.Bare())
	}
	if !st.To.IsBare() {
		c.SetTo(st.To.Bare())
	}
	return c
}

// take removes and returns a session's directed presence entities.
func (h *Handler) take(full jid.JID) map[jid.JID]struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.sent[full]
	delete(h.sent, full)
	return d
}
