package c2s_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/c2s"
	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/c2stest"
	"parley/internal/xmpptest/testserver"
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

// rawLogin negotiates a session by hand over direct TLS with a small,
// fixed receive buffer (no autotuning), so that what the client has not
// read stays in the server's queue, and returns the reader.
func rawLogin(t *testing.T, addr, user, password string) (*slowConn, *xmlstream.Reader, net.Conn) {
	t.Helper()
	tcp, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tcp.(*net.TCPConn).SetReadBuffer(64 << 10)
	tc := tls.Client(tcp, xmpptest.InsecureTLS("localhost"))
	t.Cleanup(func() { tc.Close() })
	sc := &slowConn{Conn: tc}
	r := xmlstream.NewReader(sc, xmlstream.Limits{MaxStanza: 1 << 20, MaxDepth: 64, MaxAttrs: 64})
	header := "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
	write := func(s string) {
		t.Helper()
		if _, err := tc.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	next := func(name string) *xmlstream.Element {
		t.Helper()
		for {
			tok, err := r.Next()
			if err != nil {
				t.Fatalf("waiting for %s: %v", name, err)
			}
			if tok.Kind == xmlstream.StreamElement {
				if tok.El.Name != name {
					t.Fatalf("got %s, want %s", tok.El, name)
				}
				return tok.El
			}
		}
	}
	write(header)
	next("features")
	write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+password)) + "</auth>")
	next("success")
	r.Reset(sc)
	write(header)
	next("features")
	write("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
	next("iq")
	write("<presence/>")
	return sc, r, tc
}

// wmemMax is the largest send buffer the kernel gives a socket.
func wmemMax(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err != nil {
		t.Skipf("SKIP: no tcp_wmem: %v", err)
	}
	f := strings.Fields(string(b))
	n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
	if err != nil {
		t.Skip("SKIP: tcp_wmem unreadable")
	}
	return n
}

// TestBurstPacesSender (issue 10 item 3): a 100 × 250 KB burst (25 MB) to
// a client that reads slowly is delivered completely, and the sender is
// paced: when its last stanza has been read by the server (its ack), the
// slow client has read all but what the server may hold for it (the
// queue over its bound, the batch being written, the kernel's buffers).
// Then the same client asks its archive for a page of those messages
// (12.5 MB): it is built within the bound, and arrives whole.
func TestBurstPacesSender(t *testing.T) {
	const n, size, maxQueue = 100, 250 << 10, 1 << 20
	srv := testserver.Quiet(t, func(c *config.Config) { c.Limits.MaxQueue = maxQueue })
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "victim", "pw-victim")
	sc, r, conn := rawLogin(t, srv.C2STLS(), "victim", "pw-victim")
	sc.slow.Store(true)
	done := make(chan error, 1)
	go func() {
		got := 0
		for got < n {
			tok, err := r.Next()
			if err != nil {
				done <- fmt.Errorf("after %d messages: %w", got, err)
				return
			}
			if tok.Kind != xmlstream.StreamElement || tok.El.Name != "message" {
				continue
			}
			if b := tok.El.ChildText("body", ""); !strings.HasPrefix(b, fmt.Sprintf("m%03d ", got)) {
				done <- fmt.Errorf("message %d: %.20s", got, b)
				return
			}
			got++
		}
		done <- nil
	}()

	alice := login(t, srv.C2S(), "alice", "a")
	defer alice.Close()
	alice.Send("<enable xmlns='urn:xmpp:sm:3'/>")
	if _, err := alice.Expect(wait, isSM("enabled")); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", size)
	for i := range n {
		if err := alice.Send(fmt.Sprintf("<message to='victim@localhost' type='chat'><body>m%03d %s</body></message>", i, body)); err != nil {
			t.Fatal(err)
		}
	}
	alice.Send("<r xmlns='urn:xmpp:sm:3'/>")
	if _, err := alice.Expect(30*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "a" && el.Get("h") == strconv.Itoa(n)
	}); err != nil {
		t.Fatal(err)
	}
	read := sc.read.Load()
	held := 3*maxQueue + 2*size + wmemMax(t) + 1<<20 // the last for TLS and kernel slack
	if total := int64(n * size); read < total-held {
		t.Errorf("sender not paced: the server read all %d bytes while the client had read %d (at most %d may wait for it)", total, read, held)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("slow client still reading (%d bytes so far)", sc.read.Load())
	}

	// A MAM page of 50 of them (XEP-0313), read as slowly.
	if _, err := conn.Write([]byte("<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2' queryid='q'>" +
		"<set xmlns='http://jabber.org/protocol/rsm'><max>50</max></set></query></iq>")); err != nil {
		t.Fatal(err)
	}
	results := 0
	for {
		tok, err := r.Next()
		if err != nil {
			t.Fatalf("after %d results: %v", results, err)
		}
		el := tok.El
		if tok.Kind != xmlstream.StreamElement {
			continue
		}
		if el.Name == "iq" && el.Get("id") == "q" {
			if el.Get("type") != "result" || results != 50 {
				t.Fatalf("page ended with %d results: %.300s", results, el)
			}
			break
		}
		if el.Child("result", "urn:xmpp:mam:2") != nil {
			results++
		}
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
