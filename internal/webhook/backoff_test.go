package webhook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// TestBackoff: a receiver that answers 503 is tried Attempts times, the
// waits between the attempts doubling from RetryDelay (1s, 2s, 4s on the
// fake clock), then the event is a dead letter; one that answers 404 is
// not retried.
func TestBackoff(t *testing.T) {
	var calls atomic.Int32
	status := http.StatusServiceUnavailable
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(status)
	}))
	defer recv.Close()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fake := clock.NewFake(start)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := New(Options{Clock: fake, DeadLetters: st, Hooks: []Hook{{ID: "h", Nick: "bot", URL: recv.URL, Secret: "s", Attempts: 4}}})
	h := m.hooks["h"]
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.deliver(t.Context(), h, Event{ID: "e1", Hook: "h"})
	}()
	elapsed := time.Duration(0)
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		// Wait for attempt i+1 to fail and arm the timer before the next.
		xmpptest.Eventually(t, 10*time.Second, func() error {
			if fake.Pending() == 0 {
				return errors.New("no retry timer armed")
			}
			return nil
		})
		next, _ := fake.Next()
		if got := next.Sub(start) - elapsed; got != want {
			t.Fatalf("wait %d: %v, want %v", i+1, got, want)
		}
		if n := calls.Load(); n != int32(i+1) {
			t.Fatalf("%d calls before wait %d", n, i+1)
		}
		fake.Advance(want)
		elapsed += want
	}
	<-done
	if n := calls.Load(); n != 4 {
		t.Fatalf("%d calls, want 4", n)
	}
	dl, err := m.DeadLetters(t.Context())
	if err != nil || len(dl) != 1 || dl[0].Event.ID != "e1" || dl[0].Attempts != 4 || dl[0].Error != "HTTP 503" || !dl[0].Failed.Equal(start.Add(7*time.Second)) {
		t.Fatalf("dead letters %+v", dl)
	}

	status = http.StatusNotFound
	calls.Store(0)
	m.deliver(t.Context(), h, Event{ID: "e2", Hook: "h"})
	if dl, err = m.DeadLetters(t.Context()); err != nil || calls.Load() != 1 || len(dl) != 2 || dl[1].Attempts != 1 || dl[1].Error != "HTTP 404" {
		t.Fatalf("after a 404: %d calls, dead letters %+v", calls.Load(), dl)
	}
}

// TestQueueFull: the router's goroutine never waits for a receiver: once
// a hook's queue is full, further events are dropped and counted.
func TestQueueFull(t *testing.T) {
	room, _ := jid.Parse("ops@conference.localhost")
	m := New(Options{Hooks: []Hook{{ID: "h", To: room, Room: true, Nick: "bot", URL: "https://127.0.0.1/", Secret: "s"}}})
	h := m.hooks["h"]
	for range QueueSize + 3 {
		el := xmlstream.New("message", stanza.NSClient, "type", "groupchat", "from", room.String()+"/alice")
		el.Children = append(el.Children, xmlstream.NewText("body", stanza.NSClient, "bot: help"))
		m.observe(h, el) // no worker runs: nothing drains the queue
	}
	if len(h.queue) != QueueSize || m.Dropped() != 3 {
		t.Fatalf("queued %d, dropped %d", len(h.queue), m.Dropped())
	}
}

// TestRemovedFromRoom: the hook's own unavailable presence (status 110)
// ends its joined state; a kick asks its worker to join again, a ban
// or the room's destruction does not; another occupant's, or a presence
// without 110, changes nothing.
func TestRemovedFromRoom(t *testing.T) {
	room := jid.MustParse("ops@conference.example.com")
	m := New(Options{Hooks: []Hook{{ID: "h", To: room, Room: true, Nick: "bot", URL: "http://127.0.0.1:1/", Secret: "s"}}})
	h := m.hooks["h"]
	for _, c := range []struct {
		name, presence string
		left, rejoin   bool
	}{
		{"kicked", `<presence type='unavailable' from='ops@conference.example.com/bot'><x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/><status code='307'/><status code='110'/></x></presence>`, true, true},
		{"banned", `<presence type='unavailable' from='ops@conference.example.com/bot'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='outcast' role='none'/><status code='301'/><status code='110'/></x></presence>`, true, false},
		{"destroyed", `<presence type='unavailable' from='ops@conference.example.com/bot'><x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/><destroy/><status code='110'/></x></presence>`, true, false},
		{"another occupant", `<presence type='unavailable' from='ops@conference.example.com/alice'><x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/><status code='307'/><status code='110'/></x></presence>`, false, false},
		{"without 110", `<presence type='unavailable' from='ops@conference.example.com/bot'><x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/><status code='307'/></x></presence>`, false, false},
	} {
		h.inRoom, h.joinedAt = true, h.removals.Load()
		el, err := xmlstream.ParseIn([]byte(c.presence), xmlstream.DefaultLimits(), xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			t.Fatal(err)
		}
		m.observe(h, el)
		rejoin := false
		select {
		case <-h.rejoin:
			rejoin = true
		default:
		}
		if left := !h.joined(); left != c.left || rejoin != c.rejoin {
			t.Errorf("%s: left %v, rejoin %v; want %v, %v", c.name, left, rejoin, c.left, c.rejoin)
		}
	}
}
