// Package webhook posts messages from other systems (CI, monitoring,
// ticketing) into rooms and to users: an incoming webhook is a URL,
// POST /api/v1/hooks/{id}, that takes JSON {"text": "..."} with a
// per-hook secret token and sends the text, Markdown turned into XEP-0393
// styling, from the hook's JID. Into a room the hook speaks as an
// occupant: its session joins with the hook's nickname at the first post
// and stays.
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
	"time"

	"parley/internal/httpapi"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
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
	Log   *slog.Logger
}

// Module serves the hooks.
type Module struct {
	hooks map[string]*hookState
	r     Router
	log   *slog.Logger
}

// hookState is a hook and its session.
type hookState struct {
	Hook
	mu     sync.Mutex // serialises posts: the join, then messages in order
	sess   *session
	joined bool
}

// New returns the module.
func New(o Options) *Module {
	m := &Module{hooks: make(map[string]*hookState), log: o.Log}
	if m.log == nil {
		m.log = slog.Default()
	}
	for _, h := range o.Hooks {
		m.hooks[h.ID] = &hookState{Hook: h}
	}
	return m
}

// Register keeps the router; hook sessions bind at their first post.
func (m *Module) Register(r *router.Router) { m.r = r }

// Close unbinds the hooks' sessions (they leave their rooms).
func (m *Module) Close() {
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
		if h == nil || subtle.ConstantTimeCompare([]byte(token), []byte(h.Token)) != 1 {
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
	if h.sess == nil || h.sess.ended() {
		full, err := h.From.WithResource("webhook-" + h.ID)
		if err != nil {
			return "", err
		}
		h.sess = newSession(full)
		h.joined = false
		m.r.Bind(h.sess)
	}
	typ, to := "chat", h.To
	if h.Room {
		if !h.joined {
			if err := m.join(ctx, h); err != nil {
				return "", err
			}
			h.joined = true
		}
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

// join enters the hook's room and waits for the room's answer: the
// self-presence (status 110), or an error.
func (m *Module) join(ctx context.Context, h *hookState) error {
	occupant, err := h.To.WithResource(h.Nick)
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
			(el.Get("type") == "error" || strings.Contains(el.String(), "code='110'") || strings.Contains(el.String(), `code="110"`))
	})
	m.r.Route(ctx, st)
	select {
	case el := <-answer:
		if el.Get("type") == "error" {
			return fmt.Errorf("the room %s refused the hook: %s", h.To, errorCondition(el))
		}
		return nil
	case <-time.After(joinWait):
		return fmt.Errorf("the room %s did not answer the join within %v", h.To, joinWait)
	case <-ctx.Done():
		return ctx.Err()
	}
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
