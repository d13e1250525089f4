package muc

import (
	"regexp"
	"slices"
	"sync"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/router"
	"parley/internal/xmlstream"
)

// batchSession queues a room's fan-out as a c2s session does
// (router.Batched) and logs it: the body of each stanza queued without
// waking the writer, and "wake" for each wakeup the room paid. The first
// stanza with the body gateBody stops the room's drainer until release is
// closed. Only the drainer's goroutine sends it groupchat messages.
type batchSession struct {
	*imtest.Session
	entered, release chan struct{}

	mu   sync.Mutex
	log  []string
	owed bool
}

const gateBody = "gate"

var bodyRE = regexp.MustCompile(`<body>([^<]*)</body>`)

// Send stops the drainer at the gate, whether the room batches or not.
func (s *batchSession) Send(b []byte) error {
	if err := s.Session.Send(b); err != nil {
		return err
	}
	if s.entered != nil && bodyOf(b) == gateBody {
		close(s.entered)
		s.entered = nil
		<-s.release
	}
	return nil
}

func (s *batchSession) SendBatched(b []byte) (router.Waker, error) {
	s.mu.Lock()
	s.log = append(s.log, bodyOf(b))
	owed := s.owed
	s.owed = true
	s.mu.Unlock()
	if err := s.Send(b); err != nil {
		return nil, err
	}
	if owed {
		return nil, nil // an earlier stanza of the batch owes the wakeup
	}
	return s, nil
}

func bodyOf(b []byte) string {
	if m := bodyRE.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

func hasBody(el *xmlstream.Element) bool {
	return el.Name == "message" && el.ChildText("body", "") != ""
}

func (s *batchSession) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owed = false
	s.log = append(s.log, "wake")
}

// TestFanoutWakesOncePerBatch (docs/design/03, "Fan-out"): groupchat
// messages queued in the room while its drainer is busy are fanned out
// as one batch, and each occupant's writer is woken once, after the whole
// batch is queued, so that the occupant gets it in one write. Before, each
// delivery woke the writer (c2s's Send), which then wrote whatever it
// found when it ran: about one write per few deliveries at 500 occupants.
func TestFanoutWakesOncePerBatch(t *testing.T) {
	h := newHarness(t)
	threeWitches(h)
	const full = "cat@example.com/c"
	cat := &batchSession{Session: imtest.NewSession(t, full), entered: make(chan struct{}), release: make(chan struct{})}
	entered := cat.entered
	h.r.Bind(cat)
	h.users[full] = &fakeSession{cat.Session}
	h.join(full, "coven", "graymalkin")
	cat.mu.Lock()
	cat.log = nil // the subject, a groupchat message of its own batch
	cat.mu.Unlock()
	h.user(full).take()

	// The wizard's message stops the drainer (the wizard's own
	// goroutine) in the middle of its fan-out.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><body>"+gateBody+"</body></message>")
	}()
	<-entered
	// Meanwhile three messages queue up: the drainer is busy, so each
	// sender's flush returns at once.
	for _, b := range []string{"one", "two", "three"} {
		h.send(hag, "<message type='groupchat' to='"+coven+"'><body>"+b+"</body></message>")
	}
	close(cat.release)
	<-sent

	cat.mu.Lock()
	got := slices.Clone(cat.log)
	cat.mu.Unlock()
	if want := []string{gateBody, "wake", "one", "two", "three", "wake"}; !slices.Equal(got, want) {
		t.Fatalf("the occupant's queue saw %q, want %q", got, want)
	}
	for _, u := range []string{crone, hag, full} {
		if n := len(all(h.user(u).take(), hasBody)); n != 4 {
			t.Errorf("%s got %d messages, want 4", u, n)
		}
	}
}
