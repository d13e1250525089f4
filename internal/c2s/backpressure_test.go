package c2s_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/c2s"
	"parley/internal/im/mam"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/c2stest"
)

// slowConn reads at most 32 KiB per call and pauses between calls once
// slow is set, counting what it read: a client that reads slowly.
type slowConn struct {
	net.Conn
	slow atomic.Bool
	read atomic.Int64
}

func (c *slowConn) Read(p []byte) (int, error) {
	if c.slow.Load() {
		time.Sleep(2 * time.Millisecond)
		p = p[:min(len(p), 32<<10)]
	}
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// TestBurstPacesSender (issue 10 item 3): a burst of 100 messages of
// 16 KiB (1.6 MB, 25 times the 64 KiB bound) to a client that reads
// slowly is delivered completely and in order, and the sender is paced:
// when its last stanza has been handled by the server (its ack), the slow
// client has read all but what the server may hold for it (the queue over
// its bound and the batch being written; the in-memory connection has no
// kernel buffers). Then the same client asks its archive for a page of 50
// of them (800 KB): it is built within the bound, and arrives whole.
// Without pacing, the client is disconnected at twice the bound.
//
// The burst is 100 archived messages read 32 KiB at a time: on a loaded
// two-core machine under the race detector it takes longer than one
// stanza's wait, so the steps that wait for the whole burst get burstWait.
func TestBurstPacesSender(t *testing.T) {
	const burstWait = 6 * wait
	const n, size, maxQueue, page = 100, 16 << 10, 64 << 10, 50
	srv := c2stest.Start(t, func(c *c2s.Config) { c.MaxQueue = maxQueue })
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []string{"alice", "victim"} {
		srv.AddUser(t, u, "pw-"+u)
		if err := st.CreateUser(context.Background(), store.User{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	mam.New(mam.Options{Store: st}).Register(srv.Router)

	conn, err := srv.DialRaw()
	if err != nil {
		t.Fatal(err)
	}
	sc := &slowConn{Conn: conn}
	victim, err := xmpptest.DialConn(context.Background(), sc, xmpptest.Options{
		User: "victim", Password: "pw-victim", Resource: "v", NoTLS: true, Domain: c2stest.Domain})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Kill()
	sc.slow.Store(true)
	done := make(chan error, 1)
	go func() {
		for i := range n {
			el, err := victim.Expect(burstWait, func(el *xmlstream.Element) bool { return el.Name == "message" || xmpptest.IsStreamError(el) })
			if err != nil {
				done <- fmt.Errorf("after %d messages: %w", i, err)
				return
			}
			if b := el.ChildText("body", ""); !strings.HasPrefix(b, fmt.Sprintf("m%03d ", i)) {
				done <- fmt.Errorf("message %d: %.200s", i, el)
				return
			}
		}
		done <- nil
	}()

	alice := srv.Login(t, "alice", "pw-alice", "a")
	alice.Send("<enable xmlns='urn:xmpp:sm:3'/>")
	if _, err := alice.Expect(wait, isSM("enabled")); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", size)
	for i := range n {
		if err := alice.Send(fmt.Sprintf("<message to='victim@localhost/v' type='chat'><body>m%03d %s</body></message>", i, body)); err != nil {
			t.Fatal(err)
		}
	}
	alice.Send("<r xmlns='urn:xmpp:sm:3'/>")
	if _, err := alice.Expect(burstWait, func(el *xmlstream.Element) bool {
		return el.Name == "a" && el.Get("h") == strconv.Itoa(n)
	}); err != nil {
		t.Fatal(err)
	}
	read := sc.read.Load()
	held := int64(3*maxQueue + 2*size)
	if total := int64(n * size); read < total-held {
		t.Errorf("sender not paced: the server read all %d bytes while the client had read %d (at most %d may wait for it)", total, read, held)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A MAM page of them (XEP-0313), read as slowly.
	a, err := victim.QueryArchive(burstWait, "", "<set xmlns='"+xmpptest.NSRSM+"'><max>"+strconv.Itoa(page)+"</max></set>")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Results) != page {
		t.Fatalf("page ended with %d results", len(a.Results))
	}
}

// gatedConn stops reading once gated, as a client that stops reading.
type gatedConn struct {
	net.Conn
	gated atomic.Bool
	open  chan struct{} // closed to read again
}

func (c *gatedConn) Read(p []byte) (int, error) {
	if c.gated.Load() {
		<-c.open
	}
	return c.Conn.Read(p)
}

// TestStuckClientClosed: a client that stops reading while its queue is
// over the bound is disconnected after the slow-client timeout (on the
// server's clock), with resource-constraint, and the sender paced on it
// goes on at once.
func TestStuckClientClosed(t *testing.T) {
	const size, maxQueue = 100 << 10, 64 << 10
	srv := c2stest.Start(t, func(c *c2s.Config) { c.MaxQueue = maxQueue })
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "victim", "pw-victim")
	conn, err := srv.DialRaw()
	if err != nil {
		t.Fatal(err)
	}
	gc := &gatedConn{Conn: conn, open: make(chan struct{})}
	victim, err := xmpptest.DialConn(context.Background(), gc, xmpptest.Options{
		User: "victim", Password: "pw-victim", Resource: "v", NoTLS: true, Domain: c2stest.Domain})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Kill()
	gc.gated.Store(true) // the victim reads nothing from now on
	alice := srv.Login(t, "alice", "pw-alice", "a")
	body := strings.Repeat("x", size)
	// The first message is taken by the victim's writer, which blocks on
	// the unread in-memory connection; the second stays queued over the
	// bound and paces alice, whose stream is not read meanwhile: she
	// sends from a goroutine.
	go func() {
		for i := range 2 {
			alice.Send(fmt.Sprintf("<message to='victim@localhost/v' type='chat'><body>m%03d %s</body></message>", i, body))
		}
		alice.Send("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	}()
	// A minute passes on the server's clock until the victim is ended,
	// which also releases alice at once (by herself she would go on only
	// after router.PaceWait of real time).
	xmpptest.Eventually(t, wait, func() error {
		srv.Advance(t, time.Minute+time.Second)
		_, err := alice.Expect(50*time.Millisecond, func(el *xmlstream.Element) bool { return el.Get("id") == "p" })
		return err
	})
	close(gc.open)
	el, err := victim.Expect(wait, xmpptest.IsStreamError)
	if err != nil {
		t.Fatalf("the stuck client was not disconnected: %v", err)
	}
	if c := xmpptest.StreamErrorCondition(el); c != "resource-constraint" {
		t.Fatalf("stream error %s, want resource-constraint", el)
	}
}
