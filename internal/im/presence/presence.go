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

// Handler is the router.PresenceHandler.
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
	// OnUnavailable, if set, is called when a session stops being
	// available: unavailable presence, or the session's end.
	OnUnavailable func(full jid.JID)
	// MaxDirected is how many entities one session may have sent directed
	// available presence to at once (RFC 6121 §4.6); 0 means
	// DefaultMaxDirected. Set before use.
	MaxDirected int

	mu       sync.Mutex                // guards sessions
	sessions map[jid.JID]*sessionState // by full JID
}

// sessionState is what presence remembers of one session beyond the
// router's table.
type sessionState struct {
	// last is the session's last broadcast available presence, from
	// stamped, to answer probes and tell new subscribers (§4.3.2, §3.1.5).
	last *stanza.Stanza
	// directed holds the entities that got directed available presence
	// and must get unavailable presence when the session goes (§4.6.3).
	directed map[jid.JID]struct{}
}

var _ router.PresenceHandler = (*Handler)(nil)

// DefaultMaxDirected bounds the directed presence remembered per session
// unless Handler.MaxDirected says otherwise. Each entry is a promise of
// unavailable presence at the session's end (RFC 6121 §4.6.3), so beyond
// it directed available presence is refused rather than sent and
// forgotten (docs/SECURITY.md).
const DefaultMaxDirected = 1000

// New returns a presence handler. Install it with r.SetPresence(h).
// A nil log discards nothing: it uses slog.Default.
func New(r Router, rm *roster.Module, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{router: r, roster: rm, log: log, sessions: make(map[jid.JID]*sessionState)}
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
	case "probe":
		h.answerProbe(ctx, st.To.Bare(), st.From)
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		if st.From.IsZero() {
			return
		}
		h.inboundSubscription(ctx, st)
	}
}

// Ended broadcasts unavailable presence for a session that closed without
// sending it (RFC 6121 §4.5.2: the server generates it on the user's
// behalf), and drops what presence remembered of it.
func (h *Handler) Ended(ctx context.Context, res router.Resource) {
	full := res.Session.JID()
	if h.OnUnavailable != nil {
		h.OnUnavailable(full)
	}
	s := h.take(full)
	var directed map[jid.JID]struct{}
	if s != nil {
		directed = s.directed
	}
	if res.Available || len(directed) > 0 {
		un := stanza.New(stanza.Presence, full, jid.JID{}, "unavailable", "")
		h.broadcastUnavailable(ctx, un, res.Available, directed)
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

// state returns the session's record, creating it.
func (h *Handler) state(full jid.JID, fn func(s *sessionState)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[full]
	if s == nil {
		s = &sessionState{}
		h.sessions[full] = s
	}
	fn(s)
}

// take removes and returns the session's record.
func (h *Handler) take(full jid.JID) *sessionState {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[full]
	delete(h.sessions, full)
	return s
}

// last returns the session's last available presence, or nil.
func (h *Handler) last(full jid.JID) *stanza.Stanza {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.sessions[full]; s != nil {
		return s.last
	}
	return nil
}
