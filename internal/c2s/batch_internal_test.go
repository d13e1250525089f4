package c2s

import (
	"errors"
	"testing"
	"time"

	"parley/internal/router"
	"parley/internal/xmpptest"
)

var _ router.Batched = (*session)(nil)

// waitIdle waits until the outbox's writer has written everything queued.
func waitIdle(t *testing.T, o *outbox) {
	t.Helper()
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if !o.idle() {
			return errors.New("still writing")
		}
		return nil
	})
}

// TestSendBatchedOneWrite (docs/design/03, "Fan-out"): what a fan-out
// queues with sendBatched waits for its Wake and then leaves in one
// write, however many stanzas the batch held; only the first stanza of
// the batch makes the caller owe the wakeup. Send wakes the writer itself
// at every stanza that finds it idle.
func TestSendBatchedOneWrite(t *testing.T) {
	var c counter
	o := newTestOutbox(&c)
	msg := []byte("<message from='room@muc.example.com/n' to='alice@example.com/phone' type='groupchat'><body>hi</body></message>")
	const n = 16
	for i := range n {
		wake, err := o.sendBatched(msg)
		if err != nil {
			t.Fatal(err)
		}
		if wake != (i == 0) {
			t.Fatalf("stanza %d: wake owed %v", i, wake)
		}
	}
	if w, _ := c.read(); w != 0 || o.idle() {
		t.Fatalf("before the wakeup: %d writes, idle %v; want none, the batch queued", w, o.idle())
	}
	o.Wake()
	waitIdle(t, o)
	if w, b := c.read(); w != 1 || b != n*len(msg) {
		t.Fatalf("the batch of %d took %d writes of %d bytes, want 1 of %d", n, w, b, n*len(msg))
	}

	// A Send before the wakeup starts the writer, which takes the batch
	// too; the Wake owed then has nothing to do.
	if wake, err := o.sendBatched(msg); err != nil || !wake {
		t.Fatalf("sendBatched: wake %v, %v", wake, err)
	}
	if err := o.send(msg, true); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o)
	o.Wake()
	waitIdle(t, o)
	if w, b := c.read(); w != 2 || b != (n+2)*len(msg) {
		t.Fatalf("%d writes of %d bytes, want 2 of %d", w, b, (n+2)*len(msg))
	}
}

// TestSendBatchedOverBound: a batch that takes the queue past its bound
// starts the writer at once, as Send does, rather than growing the queue
// by the rest of the batch (toward twice the bound, which disconnects).
func TestSendBatchedOverBound(t *testing.T) {
	var c counter
	o := newTestOutbox(&c)
	msg := []byte("<message type='groupchat'><body>hi</body></message>")
	o.max = 3 * len(msg)
	for i := range 3 {
		if wake, err := o.sendBatched(msg); err != nil || wake != (i == 0) {
			t.Fatalf("stanza %d: wake %v, %v", i, wake, err)
		}
	}
	if o.behind() != nil || o.idle() {
		t.Fatal("under the bound: behind, or written without the wakeup")
	}
	if _, err := o.sendBatched(msg); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o) // written without the wakeup
	o.Wake()
	if w, b := c.read(); w != 1 || b != 4*len(msg) {
		t.Fatalf("%d writes of %d bytes, want 1 of %d", w, b, 4*len(msg))
	}
}

// TestSendBatchedClosed: a wakeup owed to a session that ended meanwhile
// writes nothing, and a stanza queued by sendBatched is kept for the
// resumption like any other (XEP-0198).
func TestSendBatchedClosed(t *testing.T) {
	var c counter
	o := newTestOutbox(&c)
	o.enableSM()
	msg := []byte("<message type='groupchat'><body>hi</body></message>")
	if wake, err := o.sendBatched(msg); err != nil || !wake {
		t.Fatalf("sendBatched: wake %v, %v", wake, err)
	}
	if u := o.detach(); len(u) != 1 {
		t.Fatalf("detached with %d unacknowledged stanzas, want 1", len(u))
	}
	o.Wake()
	if !o.idle() {
		t.Fatal("a wakeup after detach started a writer")
	}
	if w, _ := c.read(); w != 0 {
		t.Fatalf("%d writes after detach", w)
	}
	if wake, err := o.sendBatched(msg); err != nil || wake {
		t.Fatalf("sendBatched while detached: wake %v, %v; want it kept, no wakeup", wake, err)
	}
	if !o.reattach(0) {
		t.Fatal("reattach refused")
	}
	waitIdle(t, o)
	if w, b := c.read(); w != 1 || b != 2*len(msg)+len(ackRequest) {
		t.Fatalf("after reattach: %d writes of %d bytes, want 1 of %d", w, b, 2*len(msg)+len(ackRequest))
	}
}
