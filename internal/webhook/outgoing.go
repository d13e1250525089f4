package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"parley/internal/clock"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Outgoing webhooks: the hook's session sits in its room and sees the
// room's messages (session.Send); one that mentions the hook's nick or
// contains a keyword becomes an Event, queued (bounded: when full the
// event is dropped, counted and logged, so the router never waits) for
// the hook's worker goroutine, which POSTs it, signed, to the hook's URL,
// retries with exponential backoff, and posts the reply back into the
// room. An event whose attempts all failed goes to the dead-letter list,
// kept in the store (the last MaxDeadLetters; Options.DeadLetters). See
// docs/design/25_outgoing_webhooks.md.
const (
	// DeliveryTimeout bounds one attempt (connect, request, response).
	DeliveryTimeout = 10 * time.Second
	// QueueSize is the events waiting per hook.
	QueueSize = 64
	// MaxDeadLetters is how many failed events are kept.
	MaxDeadLetters = 100
	// DefaultAttempts and DefaultRetryDelay apply when a hook sets none.
	DefaultAttempts   = 5
	DefaultRetryDelay = time.Second

	// Headers of a delivery.
	HeaderSignature = "X-Parley-Signature" // sha256=<hex HMAC-SHA256(secret, body)>
	HeaderTimestamp = "X-Parley-Timestamp" // Unix seconds, also Event.Timestamp
	HeaderEvent     = "X-Parley-Event"     // Event.ID, the same on every retry

	nsDelay = "urn:xmpp:delay"
)

// Event is the JSON body of a delivery. Timestamp is inside the signed
// body, so a receiver that refuses old timestamps (and remembers IDs
// within its window) cannot be replayed to.
type Event struct {
	ID        string `json:"id"`
	Hook      string `json:"hook"`
	Room      string `json:"room"`
	Nick      string `json:"nick"` // the sender's nickname in the room
	Text      string `json:"text"`
	MessageID string `json:"message_id,omitempty"`
	Trigger   string `json:"trigger"` // "mention" or "keyword"
	Keyword   string `json:"keyword,omitempty"`
	Timestamp int64  `json:"timestamp"` // Unix seconds
}

// DeadLetter is an event whose deliveries all failed.
type DeadLetter struct {
	Event    Event     `json:"event"`
	URL      string    `json:"url"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"` // the last attempt's
	Failed   time.Time `json:"failed"`
}

// Sign is the X-Parley-Signature value of body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// addDeadLetter keeps a failed event; one the store cannot take is
// logged with the event, which is then lost.
func (m *Module) addDeadLetter(ctx context.Context, l DeadLetter) {
	b, err := json.Marshal(l)
	if err == nil {
		err = m.dead.AddWebhookDeadLetter(ctx, b, MaxDeadLetters)
	}
	if err != nil {
		m.log.Error("webhook: dead letter not stored", "hook", l.Event.Hook, "event", l.Event.ID, "err", err)
	}
}

// DeadLetters are the failed events, oldest first.
func (m *Module) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	raw, err := m.dead.WebhookDeadLetters(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, 0, len(raw))
	for _, b := range raw {
		var l DeadLetter
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("webhook: stored dead letter: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// Dropped counts the events dropped because a hook's queue was full.
func (m *Module) Dropped() int64 { return m.dropped.Load() }

// MaxRejoinDelay bounds the wait between an outgoing hook's attempts to
// join its room again (from RetryDelay, doubling).
const MaxRejoinDelay = 5 * time.Minute

// Start joins the rooms of the outgoing hooks and starts their workers.
// A room that does not exist yet is created by the join, as an instant
// room with the service's defaults owned by the hook. An outgoing hook
// must sit in its room to hear it, so its worker joins again when the
// join fails or the room removes it (presence), waiting RetryDelay,
// doubling up to MaxRejoinDelay, between attempts.
func (m *Module) Start(ctx context.Context) {
	wctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	for _, h := range m.hooks {
		if h.URL == "" || !h.Room {
			continue
		}
		if err := m.joinNow(ctx, h); err != nil {
			h.askRejoin()
		}
		m.workers.Add(1)
		go func() {
			defer m.workers.Done()
			m.work(wctx, h)
		}()
	}
}

// work is an outgoing hook's worker: it delivers the hook's events in
// order and joins the room again when asked, after a wait that doubles
// while joins fail. A join waits for a delivery under way (at most its
// attempts), and a delivery for a join (at most joinWait).
func (m *Module) work(ctx context.Context, h *hookState) {
	var retry <-chan time.Time // armed while a join is due
	var t clock.Timer
	delay := h.RetryDelay
	for {
		select {
		case ev := <-h.queue:
			m.deliver(ctx, h, ev)
		case <-h.rejoin:
			if t == nil {
				t = m.clock.NewTimer(delay)
				retry = t.C()
			}
		case <-retry:
			t, retry = nil, nil
			if err := m.joinNow(ctx, h); err != nil {
				delay = min(2*delay, MaxRejoinDelay)
				t = m.clock.NewTimer(delay)
				retry = t.C()
			} else {
				delay = h.RetryDelay
			}
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		}
	}
}

// joinNow joins the hook's room unless its session sits there already;
// a failure is logged.
func (m *Module) joinNow(ctx context.Context, h *hookState) error {
	h.mu.Lock()
	err := m.ensure(ctx, h)
	h.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		m.log.Warn("webhook: outgoing hook could not join its room", "hook", h.ID, "room", h.To, "err", err)
	}
	return err
}

// observe is the hook session's view of the room: its own presence, and
// for an outgoing hook the messages, of which one that triggers the hook
// is queued as an event. It runs on the router's goroutine and never
// blocks.
func (m *Module) observe(h *hookState, el *xmlstream.Element) {
	if el.Name == "presence" {
		m.presence(h, el)
		return
	}
	if h.queue == nil || el.Name != "message" || el.Get("type") != "groupchat" || el.Child("delay", nsDelay) != nil {
		return
	}
	from := el.Get("from")
	room := h.To.String()
	if len(from) <= len(room)+1 || from[:len(room)] != room || from[len(room)] != '/' {
		return
	}
	nick := from[len(room)+1:]
	body := el.ChildText("body", "")
	if nick == h.Nick || body == "" {
		return // its own messages (replies among them) never trigger it
	}
	ev := Event{ID: stanza.NewID(), Hook: h.ID, Room: room, Nick: nick, Text: body, MessageID: el.Get("id"),
		Timestamp: m.clock.Now().Unix()}
	switch {
	case router.Mentions(body, h.Nick):
		ev.Trigger = "mention"
	default:
		for _, k := range h.Keywords {
			if router.Mentions(body, k) {
				ev.Trigger, ev.Keyword = "keyword", k
				break
			}
		}
	}
	if ev.Trigger == "" {
		return
	}
	select {
	case h.queue <- ev:
	default:
		m.dropped.Add(1)
		m.log.Warn("webhook: queue full, event dropped", "hook", h.ID, "queue", cap(h.queue))
	}
}

// presence notes the room removing the hook's occupant: its own
// unavailable presence (status 110, XEP-0045 §7.14), as when a moderator
// kicks it (307), it is removed as a non-member (321, 322), the service
// shuts down (332) or it is removed because of an error (333). The next
// post joins again, and an outgoing hook's worker joins again by itself.
// A ban (301) or the room's destruction is an operator's decision: logged,
// not undone (a post or a restart tries again).
func (m *Module) presence(h *hookState, el *xmlstream.Element) {
	if el.Get("type") != "unavailable" || !hasStatus(el, "110") {
		return
	}
	if occupant, err := h.occupant(); err != nil || el.Get("from") != occupant.String() {
		return
	}
	h.removals.Add(1)
	x := el.Child("x", nsMUCUser)
	if hasStatus(el, "301") || x != nil && x.Child("destroy", nsMUCUser) != nil {
		m.log.Error("webhook: hook banned from its room, or the room destroyed; not joining again", "hook", h.ID, "room", h.To)
		return
	}
	m.log.Warn("webhook: hook removed from its room", "hook", h.ID, "room", h.To, "rejoin", h.rejoin != nil)
	if h.rejoin != nil {
		h.askRejoin()
	}
}

// askRejoin asks the hook's worker to join again; a request already
// waiting stands for this one too (the router may have filled the slot
// before Start runs).
func (h *hookState) askRejoin() {
	select {
	case h.rejoin <- struct{}{}:
	default:
	}
}

// deliver POSTs ev until an attempt succeeds or the hook's attempts are
// spent, waiting RetryDelay, then twice that, and so on, between them.
func (m *Module) deliver(ctx context.Context, h *hookState, ev Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		return
	}
	delay := h.RetryDelay
	attempts := 0
	for {
		attempts++
		reply, retry, err := m.attempt(ctx, h, ev, body)
		if err == nil {
			if reply != "" {
				m.reply(ctx, h, reply)
			}
			return
		}
		if ctx.Err() != nil {
			return // stopping
		}
		if !retry || attempts >= h.Attempts {
			m.log.Warn("webhook: event not delivered", "hook", h.ID, "event", ev.ID, "attempts", attempts, "err", err)
			// Stored even while stopping: the event is given up either way.
			m.addDeadLetter(context.WithoutCancel(ctx), DeadLetter{Event: ev, URL: h.URL, Attempts: attempts, Error: err.Error(), Failed: m.clock.Now().UTC()})
			return
		}
		t := m.clock.NewTimer(delay)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return
		}
		delay *= 2
	}
}

// attempt is one delivery. It tells whether a failure is worth retrying:
// a network error, a timeout, 408, 429 and 5xx are; other answers are not.
func (m *Module) attempt(ctx context.Context, h *hookState, ev Event, body []byte) (reply string, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "parley-webhook")
	req.Header.Set(HeaderSignature, Sign(h.Secret, body))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ev.Timestamp, 10))
	req.Header.Set(HeaderEvent, ev.ID)
	res, err := m.client.Do(req)
	if err != nil {
		return "", true, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxBody+1))
	if err != nil {
		return "", true, fmt.Errorf("reading the response: %w", err)
	}
	switch c := res.StatusCode; {
	case c >= 200 && c < 300:
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return "", true, fmt.Errorf("HTTP %d", c)
	default:
		return "", false, fmt.Errorf("HTTP %d", c)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "", false, nil
	}
	var out struct {
		Text string `json:"text"`
	}
	if len(data) > MaxBody || json.Unmarshal(data, &out) != nil {
		m.log.Info("webhook: reply ignored: not JSON {\"text\": ...} within the size limit", "hook", h.ID)
		return "", false, nil
	}
	return out.Text, false, nil
}

// reply posts the receiver's answer into the hook's room.
func (m *Module) reply(ctx context.Context, h *hookState, text string) {
	if len(text) > MaxText {
		m.log.Info("webhook: reply ignored: too long", "hook", h.ID, "bytes", len(text))
		return
	}
	if _, err := m.post(ctx, h, Markdown(text)); err != nil && !errors.Is(err, context.Canceled) {
		m.log.Warn("webhook: reply not posted", "hook", h.ID, "err", err)
	}
}
