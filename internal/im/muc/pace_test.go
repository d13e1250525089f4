package muc

import (
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/im/imtest"
)

// behindSession is a recording session that reports itself over its
// queue bound (router.Paced) while behind holds a channel.
type behindSession struct {
	*imtest.Session
	behind atomic.Pointer[chan struct{}]
}

func (s *behindSession) Behind() <-chan struct{} {
	if p := s.behind.Load(); p != nil {
		return *p
	}
	return nil
}

// TestFanoutPacesSender (docs/design/03, "Backpressure"): the sender of a
// groupchat message that pushed an occupant over its queue bound does not
// read on (its Route does not return) until that occupant is back under
// it; the occupant gets the message meanwhile. Before, room fan-out was
// unpaced and a flood disconnected the slow occupant at twice its bound.
func TestFanoutPacesSender(t *testing.T) {
	h := newHarness(t)
	threeWitches(h)
	const slowJID = "slow@example.com/s"
	slow := &behindSession{Session: imtest.NewSession(t, slowJID)}
	h.r.Bind(slow)
	h.users[slowJID] = &fakeSession{slow.Session}
	h.join(slowJID, "coven", "slowcoach")
	h.user(slowJID).take()

	over := make(chan struct{})
	slow.behind.Store(&over)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><body>flood</body></message>")
	}()
	deadline := time.Now().Add(10 * time.Second)
	for find(h.user(slowJID).take(), body("flood")) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the slow occupant did not get the message")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-sent:
		t.Fatal("the sender read on while the occupant it pushed over its bound was still behind")
	case <-time.After(50 * time.Millisecond):
	}
	slow.behind.Store(nil)
	close(over) // the occupant's writer caught up
	<-sent
}
