package muc

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// In a room whose queue never runs dry, the sender whose message started
// a drain gets its stream back after a bounded amount of other senders'
// traffic; a goroutine of the room's sends the rest, in order, losing
// nothing.
func TestFlushHandsOffABusyQueue(t *testing.T) {
	const more = 200 // messages other senders queue during the drain
	h := newHarness(t)
	threeWitches(h)
	var queued atomic.Int32
	// Each delivery to the wizard makes the hag send one more message,
	// as other senders would while the room drains.
	h.user(wiz).OnSend = func() {
		if n := queued.Add(1); n <= more {
			h.send(hag, "<message type='groupchat' to='"+coven+"'><body>"+strconv.Itoa(int(n))+"</body></message>")
		}
	}
	h.send(crone, "<message type='groupchat' to='"+coven+"'><body>first</body></message>")
	if n := queued.Load(); n >= more {
		t.Errorf("the first sender's flush returned after the others' %d messages: it drained them all", n)
	}
	// Every message reaches the crone, in the order sent.
	var bodies []string
	deadline := time.Now().Add(10 * time.Second)
	for len(bodies) < more+1 && time.Now().Before(deadline) {
		for _, m := range h.user(crone).take() {
			if m.Name == "message" {
				bodies = append(bodies, m.ChildText("body", ""))
			}
		}
		time.Sleep(time.Millisecond)
	}
	if len(bodies) != more+1 || bodies[0] != "first" {
		t.Fatalf("the crone got %d messages (first %q), want %d", len(bodies), bodies[:min(1, len(bodies))], more+1)
	}
	for i, b := range bodies[1:] {
		if b != strconv.Itoa(i+1) {
			t.Fatalf("message %d is %q: out of order", i+1, b)
		}
	}
}
