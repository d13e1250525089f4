package offline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
)

// memStore is an in-memory store.Offline.
type memStore struct {
	mu   sync.Mutex // guards the fields below
	next int64
	msgs map[string][]store.OfflineMessage
}

func newMemStore() *memStore { return &memStore{msgs: make(map[string][]store.OfflineMessage)} }

func (s *memStore) StoreOffline(_ context.Context, user string, m store.OfflineMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	m.ID = s.next
	s.msgs[user] = append(s.msgs[user], m)
	return nil
}

func (s *memStore) OfflineMessages(_ context.Context, user string) ([]store.OfflineMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs[user]), nil
}

func (s *memStore) DeleteOffline(_ context.Context, user string, ids []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[user] = slices.DeleteFunc(s.msgs[user], func(m store.OfflineMessage) bool { return slices.Contains(ids, m.ID) })
	return nil
}

func (s *memStore) OfflineUsage(_ context.Context, user string) (int, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b int64
	for _, m := range s.msgs[user] {
		b += int64(len(m.Stanza))
	}
	return len(s.msgs[user]), b, nil
}

func (s *memStore) CountOffline(_ context.Context, user string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs[user]), nil
}

var clock = time.Date(2026, 3, 4, 5, 6, 7, 89_000_000, time.FixedZone("X", 3600))

func newModule(t *testing.T, limit int) (*Module, *router.Router, *memStore) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "bob": true}, log)
	s := newMemStore()
	m := New(Options{Store: s, Limit: limit, Log: log})
	m.now = func() time.Time { return clock }
	m.Register(r)
	return m, r, s
}

func TestStoreOffline(t *testing.T) {
	const head = `<message xmlns='jabber:client' from='bob@example.com/b' to='alice@example.com' `
	tests := []struct {
		xml     string
		full    bool // the user already has the limit (2) stored
		wantErr error
	}{
		0:  {xml: head + `type='chat'><body>hi</body></message>`},
		1:  {xml: head + `><body>hi</body></message>`},
		2:  {xml: head + `type='normal'><subject>s</subject></message>`},
		3:  {xml: head + `type='headline'><body>hi</body></message>`, wantErr: router.ErrDrop},
		4:  {xml: head + `type='error'><body>hi</body></message>`, wantErr: router.ErrDrop},
		5:  {xml: head + `type='groupchat'><body>hi</body></message>`, wantErr: stanza.ErrServiceUnavailable},
		6:  {xml: head + `type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`, wantErr: router.ErrDrop},
		7:  {xml: head + `type='chat'><body>hi</body><no-store xmlns='urn:xmpp:hints'/></message>`, wantErr: router.ErrDrop},
		8:  {xml: head + `type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/><store xmlns='urn:xmpp:hints'/></message>`},
		9:  {xml: head + `type='chat'><received xmlns='urn:xmpp:receipts' id='x'/></message>`},
		10: {xml: head + `type='chat'><thread>t</thread></message>`, wantErr: router.ErrDrop},
		11: {xml: head + `type='chat'><body>hi</body></message>`, full: true, wantErr: stanza.ErrServiceUnavailable},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			m, _, s := newModule(t, 2)
			ctx := context.Background()
			if tc.full {
				for range 2 {
					s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("<message/>")})
				}
			}
			before, _ := s.CountOffline(ctx, "alice")
			err := m.StoreOffline(ctx, imtest.Parse(t, tc.xml))
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			after, _ := s.CountOffline(ctx, "alice")
			if tc.wantErr != nil {
				if after != before {
					t.Error("rejected message was stored")
				}
				return
			}
			if after != before+1 {
				t.Fatal("message not stored")
			}
			msgs, _ := s.OfflineMessages(ctx, "alice")
			got := imtest.Parse(t, string(msgs[len(msgs)-1].Stanza))
			d := got.El.Child("delay", NSDelay)
			if d == nil || d.Get("from") != "example.com" || d.Get("stamp") != "2026-03-04T04:06:07.089Z" {
				t.Errorf("stored %s, want a XEP-0203 delay in UTC", got.El)
			}
		})
	}
}

func TestDeliver(t *testing.T) {
	m, r, s := newModule(t, 0)
	ctx := context.Background()
	// Messages reach the store through the router (no available resource).
	for i := range 3 {
		r.Route(ctx, imtest.Parse(t, `<message xmlns='jabber:client' from='bob@example.com/b' to='alice@example.com' type='chat'><body>m`+strconv.Itoa(i)+`</body></message>`))
	}
	if n, _ := s.CountOffline(ctx, "alice"); n != 3 {
		t.Fatalf("%d stored, want 3", n)
	}
	alice := imtest.Bind(t, r, "alice@example.com/one")

	m.OnInitialPresence(ctx, alice.JID(), -1) // negative priority: nothing (XEP-0160 §3)
	m.Close()
	if got := alice.Take(); len(got) != 0 {
		t.Fatalf("negative priority got %d messages", len(got))
	}
	m.OnInitialPresence(ctx, alice.JID(), 0)
	m.Close()
	got := alice.Take()
	var bodies []string
	for _, st := range got {
		bodies = append(bodies, st.El.ChildText("body", ""))
		if st.El.Child("delay", NSDelay) == nil {
			t.Errorf("delivered without delay: %s", st.El)
		}
	}
	if want := []string{"m0", "m1", "m2"}; !slices.Equal(bodies, want) {
		t.Errorf("delivered %q, want %q in order", bodies, want)
	}
	if n, _ := s.CountOffline(ctx, "alice"); n != 0 {
		t.Errorf("%d left after delivery", n)
	}
	if !slices.Contains(r.Features(), Feature) {
		t.Error("msgoffline not advertised")
	}
}

func TestDeliverSessionGone(t *testing.T) {
	m, _, s := newModule(t, 0)
	ctx := context.Background()
	s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte(`<message to='alice@example.com'><body>x</body></message>`)})
	m.Deliver(jid.MustParse("alice@example.com/none"))
	m.Close()
	msgs, _ := s.OfflineMessages(ctx, "alice")
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Stanza), "<body>x</body>") {
		t.Errorf("undelivered message lost: %v", msgs)
	}
}

// A message routed to storage just before the user's initial presence is
// stored after that presence has read the queue: it is delivered at once,
// not at the next login.
func TestStoredWhileBecomingAvailable(t *testing.T) {
	m, r, s := newModule(t, 0)
	ctx := context.Background()
	alice := imtest.Available(t, r, "alice@example.com/one", 0, nil)
	m.OnInitialPresence(ctx, alice.JID(), 0) // the queue is empty now
	late := imtest.Parse(t, `<message xmlns='jabber:client' from='bob@example.com/b' to='alice@example.com' type='chat'><body>late</body></message>`)
	if err := m.StoreOffline(ctx, late); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got := alice.Take(); len(got) != 1 || got[0].El.ChildText("body", "") != "late" {
		t.Fatalf("alice got %v, want the late message", got)
	}
	if n, _ := s.CountOffline(ctx, "alice"); n != 0 {
		t.Errorf("%d left in storage", n)
	}
}

// loadHook runs a function the first time the queue is read.
type loadHook struct {
	*memStore
	once func()
}

func (s *loadHook) OfflineMessages(ctx context.Context, user string) ([]store.OfflineMessage, error) {
	msgs, err := s.memStore.OfflineMessages(ctx, user)
	if f := s.once; f != nil {
		s.once = nil
		f()
	}
	return msgs, err
}

// A delivery asked for while one runs makes the running one read the
// queue again, so a message stored in between is not left behind.
func TestDeliverWhileDelivering(t *testing.T) {
	m, r, mem := newModule(t, 0)
	ctx := context.Background()
	alice := imtest.Bind(t, r, "alice@example.com/one")
	s := &loadHook{memStore: mem}
	m.store = s
	s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte(`<message to='alice@example.com'><body>first</body></message>`)})
	s.once = func() {
		s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte(`<message to='alice@example.com'><body>second</body></message>`)})
		m.Deliver(alice.JID()) // one is running: it reads the queue again
	}
	m.Deliver(alice.JID())
	m.Close()
	var bodies []string
	for _, st := range alice.Take() {
		bodies = append(bodies, st.El.ChildText("body", ""))
	}
	if want := []string{"first", "second"}; !slices.Equal(bodies, want) {
		t.Errorf("delivered %q, want %q", bodies, want)
	}
	if n, _ := s.CountOffline(ctx, "alice"); n != 0 {
		t.Errorf("%d left in storage", n)
	}
}
