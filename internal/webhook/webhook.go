// Package webhook posts messages from other systems (CI, monitoring,
// ticketing) into rooms and to users: an incoming webhook is a URL,
// POST /api/v1/hooks/{id}, that takes JSON {"text": "..."} with a
// per-hook secret token and sends the text, Markdown turned into XEP-0393
// styling, from the hook's JID. Into a room the hook speaks as an
// occupant: its session joins with the hook's nickname at the first post
// and stays, and joins again at the next post if the room removed it. A
// hook with a URL is outgoing too (outgoing.go): it joins at start and
// again by itself when removed, its room's messages that mention it are
// sent, signed, to the URL, and the answer is posted back.
package webhook

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/clock"
	"parley/internal/defaults"
	"parley/internal/httpapi"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Limits of a post.
const (
	MaxBody   = 16 << 10 // bytes of a request body
	MaxText   = 8 << 10  // bytes of the text
	joinWait  = 10 * time.Second
	nsMUC     = "http://jabber.org/protocol/muc"
	nsMUCUser = "http://jabber.org/protocol/muc#user"
)

// Hook is one incoming webhook.
type Hook struct {
	ID    string
	Token string  // the secret a post must present
	From  jid.JID // the hook's JID (a bot account's bare JID)
	To    jid.JID // a room's or a user's bare JID
	Room  bool    // To is a room: the hook joins it as Nick
	Nick  string

	// Outgoing (outgoing.go): set URL and Secret to send the room's
	// mentions of Nick and messages with a keyword to URL.
	URL        string
	Secret     string
	Keywords   []string
	Attempts   int           // default DefaultAttempts
	RetryDelay time.Duration // default DefaultRetryDelay; also the first wait to rejoin
}

// Router is what posting needs; *router.Router has it.
type Router interface {
	Route(ctx context.Context, st *stanza.Stanza) router.Owed
	Bind(s router.Session)
	Unbind(ctx context.Context, s router.Session)
}

// Options configure the module.
type Options struct {
	Hooks []Hook
	// DeadLetters keeps the outgoing events whose deliveries all failed;
	// required when a hook has a URL.
	DeadLetters store.WebhookDeadLetters
	Log         *slog.Logger
	// Client sends the outgoing events; default one with DeliveryTimeout
	// that follows no redirects.
	Client *http.Client
	// Clock times the retries (nil: the system's).
	Clock clock.Clock
}

// Module serves the hooks.
type Module struct {
	hooks  map[string]*hookState
	r      Router
	log    *slog.Logger
	client *http.Client
	clock  clock.Clock

	// Outgoing hooks' workers, stopped by Close.
	stop    context.CancelFunc
	workers sync.WaitGroup
	dead    store.WebhookDeadLetters
	dropped atomic.Int64
}

// hookState is a hook and its session.
type hookState struct {
	Hook
	mu   sync.Mutex // serialises posts: the join, then messages in order
	sess *session
	// inRoom and joinedAt (under mu) record the last successful join and
	// the removals counted when it began; removals counts the room's
	// removals of the hook's occupant (presence, on the router's
	// goroutine, which must not wait for mu: a post holds it while the
	// room answers). A removal during or after the join, however the two
	// interleave, makes the next ensure join again (joined).
	inRoom   bool
	joinedAt uint64
	removals atomic.Uint64
	queue    chan Event    // outgoing events for the worker; nil if not outgoing
	rejoin   chan struct{} // asks an outgoing room hook's worker to join again
}

// joined reports whether the hook's session sits in its room: it joined,
// and the room has not removed it since; h.mu is held.
func (h *hookState) joined() bool { return h.inRoom && h.joinedAt == h.removals.Load() }

// occupant is the hook's occupant JID in its room.
func (h *hookState) occupant() (jid.JID, error) { return h.To.WithResource(h.Nick) }

// New returns the module.
func New(o Options) *Module {
	m := &Module{hooks: make(map[string]*hookState), log: o.Log, client: o.Client, clock: clock.Or(o.Clock), dead: o.DeadLetters}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.client == nil {
		m.client = &http.Client{Timeout: DeliveryTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	for _, h := range o.Hooks {
		hs := &hookState{Hook: h}
		if h.URL != "" {
			hs.queue = make(chan Event, QueueSize)
			hs.rejoin = make(chan struct{}, 1)
			defaults.Positive(&hs.Attempts, DefaultAttempts)
			defaults.Positive(&hs.RetryDelay, DefaultRetryDelay)
		}
		m.hooks[h.ID] = hs
	}
	return m
}

// Register keeps the router; hook sessions bind at their first post.
func (m *Module) Register(r *router.Router) { m.r = r }

// Close stops the outgoing hooks' workers and unbinds the hooks' sessions
// (they leave their rooms).
func (m *Module) Close() {
	if m.stop != nil {
		m.stop()
		m.workers.Wait()
	}
	for _, h := range m.hooks {
		h.mu.Lock()
		if h.sess != nil {
			m.r.Unbind(context.Background(), h.sess)
			h.sess = nil
		}
		h.mu.Unlock()
	}
}

// Handler serves POST /api/v1/hooks/{id}.
func (m *Module) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := m.hooks[r.PathValue("id")]
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" {
			token = r.URL.Query().Get("token")
		}
		// An unknown hook and a wrong token look the same.
		if h == nil || h.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(h.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley webhooks"`)
			httpapi.Problem(w, r, http.StatusUnauthorized, "unauthorized", "no such hook, or a wrong token")
			return
		}
		var in struct {
			Text string `json:"text"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
		if err := dec.Decode(&in); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				httpapi.Problem(w, r, http.StatusRequestEntityTooLarge, "request too large", fmt.Sprintf("the body exceeds %d bytes", MaxBody))
				return
			}
			httpapi.Problem(w, r, http.StatusBadRequest, "bad request", `the body must be JSON: {"text": "..."}`)
			return
		}
		switch {
		case strings.TrimSpace(in.Text) == "":
			httpapi.Problem(w, r, http.StatusBadRequest, "bad request", "text is empty")
			return
		case len(in.Text) > MaxText:
			httpapi.Problem(w, r, http.StatusRequestEntityTooLarge, "text too long", fmt.Sprintf("text exceeds %d bytes", MaxText))
			return
		}
		id, err := m.post(r.Context(), h, Markdown(in.Text))
		if err != nil {
			m.log.Warn("webhook: post failed", "hook", h.ID, "err", err)
			httpapi.Problem(w, r, http.StatusBadGateway, "not posted", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"id": id})
	})
}

// post sends text from the hook, joining its room first if need be, and
// returns the message's id.
func (m *Module) post(ctx context.Context, h *hookState, text string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := m.ensure(ctx, h); err != nil {
		return "", err
	}
	typ, to := "chat", h.To
	if h.Room {
		typ = "groupchat"
	}
	id := stanza.NewID()
	el := xmlstream.New("message", stanza.NSClient, "type", typ, "id", id, "to", to.String(), "from", h.sess.full.String())
	el.Children = append(el.Children, xmlstream.NewText("body", stanza.NSClient, text))
	st, err := stanza.Parse(el)
	if err != nil {
		return "", err
	}
	m.r.Route(ctx, st)
	return id, nil
}

// ensure binds the hook's session and joins its room if need be; h.mu is
// held.
func (m *Module) ensure(ctx context.Context, h *hookState) error {
	if h.sess == nil || h.sess.ended() {
		full, err := h.From.WithResource("webhook-" + h.ID)
		if err != nil {
			return err
		}
		var observe func(*xmlstream.Element)
		if h.Room {
			observe = func(el *xmlstream.Element) { m.observe(h, el) }
		}
		h.sess = newSession(full, observe, h.queue != nil)
		h.inRoom = false
		m.r.Bind(h.sess)
	}
	if h.Room && !h.joined() {
		removals := h.removals.Load()
		if err := m.join(ctx, h); err != nil {
			return err
		}
		h.inRoom, h.joinedAt = true, removals
	}
	return nil
}

// join enters the hook's room and waits for the room's answer: the
// self-presence (status 110), or an error.
func (m *Module) join(ctx context.Context, h *hookState) error {
	occupant, err := h.occupant()
	if err != nil {
		return fmt.Errorf("nickname %q: %w", h.Nick, err)
	}
	x := xmlstream.New("x", nsMUC)
	x.Children = append(x.Children, xmlstream.New("history", nsMUC, "maxstanzas", "0"))
	el := xmlstream.New("presence", stanza.NSClient, "to", occupant.String(), "from", h.sess.full.String())
	el.Children = append(el.Children, x)
	st, err := stanza.Parse(el)
	if err != nil {
		return err
	}
	answer := h.sess.expect(func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == occupant.String() &&
			(el.Get("type") == "error" || hasStatus(el, "110"))
	})
	m.r.Route(ctx, st)
	el, err = wait(ctx, answer, h)
	switch {
	case err != nil:
		return err
	case el.Get("type") == "error":
		return fmt.Errorf("the room %s refused the hook: %s", h.To, errorCondition(el))
	case !hasStatus(el, "201"):
		return nil
	}
	// The join created the room (an outgoing hook's, at start): accept
	// the default configuration (XEP-0045 §10.1.2, instant room).
	id := stanza.NewID()
	iq := xmlstream.New("iq", stanza.NSClient, "type", "set", "id", id, "to", h.To.String(), "from", h.sess.full.String())
	q := xmlstream.New("query", nsMUC+"#owner")
	q.Children = append(q.Children, xmlstream.New("x", "jabber:x:data", "type", "submit"))
	iq.Children = append(iq.Children, q)
	if st, err = stanza.Parse(iq); err != nil {
		return err
	}
	answer = h.sess.expect(func(el *xmlstream.Element) bool { return el.Name == "iq" && el.Get("id") == id })
	m.r.Route(ctx, st)
	if el, err = wait(ctx, answer, h); err != nil {
		return err
	}
	if el.Get("type") != "result" {
		return fmt.Errorf("the room %s refused the instant configuration: %s", h.To, errorCondition(el))
	}
	return nil
}

// wait is the room's answer, or an error if it does not come.
func wait(ctx context.Context, answer <-chan *xmlstream.Element, h *hookState) (*xmlstream.Element, error) {
	t := time.NewTimer(joinWait)
	defer t.Stop()
	select {
	case el := <-answer:
		return el, nil
	case <-t.C:
		return nil, fmt.Errorf("the room %s did not answer within %v", h.To, joinWait)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hasStatus tells whether a MUC presence carries the status code.
func hasStatus(el *xmlstream.Element, code string) bool {
	if x := el.Child("x", nsMUCUser); x != nil {
		for _, c := range x.Children {
			if c.Name == "status" && c.Get("code") == code {
				return true
			}
		}
	}
	return false
}

// errorCondition names the defined condition of an error stanza.
func errorCondition(el *xmlstream.Element) string {
	if e := el.Child("error", ""); e != nil {
		for _, c := range e.Children {
			if c.Space == stanza.NSStanzas && c.Name != "text" {
				return c.Name
			}
		}
	}
	return "undefined-condition"
}
