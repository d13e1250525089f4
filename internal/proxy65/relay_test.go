package proxy65

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

const wait = 10 * time.Second

var (
	initiator = jid.MustParse("alice@example.com/desk")
	target    = jid.MustParse("bob@example.com/phone")
)

// startProxy serves a proxy on a loopback port; the test's end closes
// the listener and the proxy.
func startProxy(t testing.TB, o Options) (*Module, string) {
	t.Helper()
	m, addr, _ := serveProxy(t, o)
	return m, addr
}

// serveProxy is startProxy that also returns the stop the test's end
// calls, for a test that stops the proxy earlier: it closes the
// listener, checks Serve's error, and closes the proxy.
func serveProxy(t testing.TB, o Options) (*Module, string, func()) {
	t.Helper()
	m := New(o)
	m.domain = jid.MustParse("example.com")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- m.Serve(ln) }()
	stop := sync.OnceFunc(func() {
		ln.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		m.Close()
	})
	t.Cleanup(stop)
	return m, ln.Addr().String(), stop
}

// socksConnect opens a SOCKS5 connection for hash and returns it with
// the proxy's reply code (or an error if the proxy closed it).
func socksConnect(t testing.TB, addr, hash string) (*net.TCPConn, byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(wait))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{5, 1, methodNoAuth}); err != nil {
		return nil, 0, err
	}
	method := make([]byte, 2)
	if _, err := io.ReadFull(c, method); err != nil {
		return nil, 0, err
	}
	if method[1] != methodNoAuth {
		return nil, 0, fmt.Errorf("method %#x", method[1])
	}
	if _, err := c.Write(appendRequest(nil, cmdConnect, hash, 0)); err != nil {
		return nil, 0, err
	}
	reply := make([]byte, 5+len(hash)+2)
	if _, err := io.ReadFull(c, reply[:2]); err != nil {
		return nil, 0, err
	}
	if reply[1] != repSucceeded {
		return c.(*net.TCPConn), reply[1], nil
	}
	if _, err := io.ReadFull(c, reply[2:]); err != nil {
		return nil, 0, err
	}
	if want := appendRequest(nil, repSucceeded, hash, 0); !bytes.Equal(reply, want) {
		return nil, 0, fmt.Errorf("reply %x, want %x", reply, want)
	}
	return c.(*net.TCPConn), repSucceeded, nil
}

// pair connects target and initiator to one stream.
func pair(t testing.TB, addr, hash string) (tc, ic *net.TCPConn) {
	t.Helper()
	for _, c := range []**net.TCPConn{&tc, &ic} {
		conn, rep, err := socksConnect(t, addr, hash)
		if err != nil || rep != repSucceeded {
			t.Fatalf("connect: %#x %v", rep, err)
		}
		*c = conn
	}
	return tc, ic
}

// send writes b on c and half-closes it; recv reads c to its end.
func send(t *testing.T, c *net.TCPConn, b []byte) {
	go func() {
		c.Write(b)
		c.CloseWrite()
	}()
}

func recv(t *testing.T, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// streamsGone waits until the proxy holds no stream and no activation.
func streamsGone(t *testing.T, m *Module) {
	t.Helper()
	xmpptest.Eventually(t, wait, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.streams) != 0 || len(m.active) != 0 {
			return fmt.Errorf("%d streams, %d users active", len(m.streams), len(m.active))
		}
		return nil
	})
}

// TestRelayBothWays: two connections with one hash are paired; bytes the
// target sent before the activation are dropped (XEP-0065 §10.1); after
// it the proxy relays both ways, and the end of one side reaches the
// other.
func TestRelayBothWays(t *testing.T) {
	m, addr := startProxy(t, Options{})
	hash := StreamHash("sid-1", initiator, target)
	tc, ic := pair(t, addr, hash)
	if _, err := tc.Write([]byte("early ")); err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, wait, func() error {
		if n := m.discarded.Load(); n != 6 {
			return fmt.Errorf("%d bytes dropped before the activation", n)
		}
		return nil
	})
	if err := m.activate(hash, initiator); err != nil {
		t.Fatalf("activate: %v", err)
	}
	file := random(1 << 20)
	send(t, ic, file)
	if got := recv(t, tc); !bytes.Equal(got, file) {
		t.Fatalf("the target got %d bytes, not the %d sent", len(got), len(file))
	}
	back := random(100 << 10)
	send(t, tc, back)
	if got := recv(t, ic); !bytes.Equal(got, back) {
		t.Fatalf("the initiator got %d bytes, want %d", len(got), len(back))
	}
	streamsGone(t, m)
}

// TestActivateErrors: the errors of XEP-0065 §6.3.5 and the per-user
// stream limit.
func TestActivateErrors(t *testing.T) {
	m, addr := startProxy(t, Options{MaxStreamsPerUser: 1})
	hash := StreamHash("sid-1", initiator, target)
	if err := m.activate(hash, initiator); !errors.Is(err, stanza.ErrItemNotFound) {
		t.Fatalf("no connection: %v", err)
	}
	tc, _, err := socksConnect(t, addr, hash)
	if err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, wait, func() error {
		if err := m.activate(hash, initiator); !errors.Is(err, stanza.ErrNotAllowed) {
			return fmt.Errorf("one party: %v", err)
		}
		return nil
	})
	ic, _, err := socksConnect(t, addr, hash)
	if err != nil {
		t.Fatal(err)
	}
	// A third connection to the stream is refused (no multicast, §10.1).
	if _, rep, err := socksConnect(t, addr, hash); err != nil || rep != repNotAllowed {
		t.Fatalf("third connection: %#x %v", rep, err)
	}
	// Someone else naming the stream computes another hash.
	other := jid.MustParse("carol@example.com/x")
	if err := m.activate(StreamHash("sid-1", other, target), other); !errors.Is(err, stanza.ErrItemNotFound) {
		t.Fatalf("not the initiator: %v", err)
	}
	if err := m.activate(hash, initiator); err != nil {
		t.Fatalf("activate: %v", err)
	}
	if err := m.activate(hash, initiator); !errors.Is(err, stanza.ErrNotAcceptable) {
		t.Fatalf("again: %v", err)
	}
	// A second stream of the same user is over its limit of one.
	hash2 := StreamHash("sid-2", initiator, target)
	pair(t, addr, hash2)
	if err := m.activate(hash2, initiator); !errors.Is(err, stanza.ErrResourceConstraint) {
		t.Fatalf("over the limit: %v", err)
	}
	// Another user is not limited by alice's streams.
	hash3 := StreamHash("sid-3", other, target)
	pair(t, addr, hash3)
	if err := m.activate(hash3, other); err != nil {
		t.Fatalf("carol's stream: %v", err)
	}
	// Once the first stream ends, alice may activate the second.
	tc.Close()
	ic.Close()
	xmpptest.Eventually(t, wait, func() error {
		if err := m.activate(hash2, initiator); err != nil {
			return err
		}
		return nil
	})
}

// TestIdleConnectionClosed: a connection that is not paired and activated
// within IdleTimeout is closed, and its hash forgotten.
func TestIdleConnectionClosed(t *testing.T) {
	m, addr := startProxy(t, Options{IdleTimeout: 50 * time.Millisecond})
	// IdleTimeout counts from a connection's arrival, the handshake
	// included: on a loaded machine the proxy may cut a connection
	// before its handshake is over, which is the same end, earlier.
	var conns []net.Conn
	connect := func(hash string) {
		t.Helper()
		c, rep, err := socksConnect(t, addr, hash)
		switch {
		case err != nil:
			t.Logf("cut during the handshake: %v", err)
		case rep != repSucceeded:
			t.Fatalf("connect: %#x", rep)
		default:
			conns = append(conns, c)
		}
	}
	connect(StreamHash("s", initiator, target)) // alone
	connect(StreamHash("t", initiator, target)) // target and
	connect(StreamHash("t", initiator, target)) // initiator, never activated
	for _, c := range conns {
		if b := recv(t, c); len(b) != 0 {
			t.Fatalf("got %q", b)
		}
	}
	streamsGone(t, m)
	// A handshake that never comes is cut too.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b := recv(t, c); len(b) != 0 {
		t.Fatalf("got %q", b)
	}
}

// TestMaxConnections: beyond MaxConnections a connection is closed before
// the handshake; a place freed is taken again, whether a stream ended or
// a waiting client left.
func TestMaxConnections(t *testing.T) {
	m, addr := startProxy(t, Options{MaxConnections: 2})
	hash := StreamHash("a", initiator, target)
	tc, ic := pair(t, addr, hash)
	if _, _, err := socksConnect(t, addr, StreamHash("c", initiator, target)); err == nil {
		t.Fatal("a third connection was served")
	}
	if err := m.activate(hash, initiator); err != nil {
		t.Fatal(err)
	}
	tc.Close()
	ic.Close()
	var waiting *net.TCPConn
	xmpptest.Eventually(t, wait, func() error {
		c, _, err := socksConnect(t, addr, StreamHash("d", initiator, target))
		waiting = c
		return err
	})
	if _, _, err := socksConnect(t, addr, StreamHash("e", initiator, target)); err != nil {
		t.Fatal(err)
	}
	// The waiting client leaves long before IdleTimeout: its place is free.
	waiting.Close()
	xmpptest.Eventually(t, wait, func() error {
		_, _, err := socksConnect(t, addr, StreamHash("f", initiator, target))
		return err
	})
	streamsGoneBut(t, m, 2)
}

// streamsGoneBut waits until the proxy holds exactly n streams.
func streamsGoneBut(t *testing.T, m *Module, n int) {
	t.Helper()
	xmpptest.Eventually(t, wait, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.streams) != n {
			return fmt.Errorf("%d streams, want %d", len(m.streams), n)
		}
		return nil
	})
}

// TestMaxConnectionsPerIP: one address may hold MaxConnectionsPerIP
// connections; another address is not limited by them.
func TestMaxConnectionsPerIP(t *testing.T) {
	_, addr := startProxy(t, Options{MaxConnectionsPerIP: 2})
	for _, s := range []string{"a", "b"} {
		if _, _, err := socksConnect(t, addr, StreamHash(s, initiator, target)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := socksConnect(t, addr, StreamHash("c", initiator, target)); err == nil {
		t.Fatal("a third connection from 127.0.0.1 was served")
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.2: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	c.Write([]byte{5, 1, methodNoAuth})
	reply := make([]byte, 2)
	if _, err := io.ReadFull(c, reply); err != nil || reply[1] != methodNoAuth {
		t.Fatalf("from 127.0.0.2: %x %v", reply, err)
	}
}

// TestRefusedHandshakes: a client without the no-authentication method
// gets 0xFF; a request the proxy does not serve gets its reply code.
func TestRefusedHandshakes(t *testing.T) {
	_, addr := startProxy(t, Options{})
	tests := []struct {
		greeting, request, want []byte
	}{
		0: {[]byte{5, 1, 2}, nil, []byte{5, methodNone}},
		1: {[]byte{5, 1, 0}, appendRequest(nil, 0x02, testHash, 0), appendFailure([]byte{5, 0}, repCmdNotSupported)},
		2: {[]byte{5, 1, 0}, []byte{5, 1, 0, 1, 127, 0, 0, 1, 0, 80}, appendFailure([]byte{5, 0}, repAtypUnsupported)},
		3: {[]byte{5, 1, 0}, appendRequest(nil, cmdConnect, "example.com", 80), appendFailure([]byte{5, 0}, repNotAllowed)},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write(append(tc.greeting, tc.request...))
			if got := recv(t, c); !bytes.Equal(got, tc.want) {
				t.Fatalf("got %x, want %x", got, tc.want)
			}
		})
	}
}

// TestThrottled: a stream faster than BytesPerSecond waits for its
// tokens (the waits the buckets imposed are counted, not timed) and still
// delivers every byte.
func TestThrottled(t *testing.T) {
	m, addr := startProxy(t, Options{BytesPerSecond: 64 << 10}) // a bucket of 16 KiB
	hash := StreamHash("sid", initiator, target)
	tc, ic := pair(t, addr, hash)
	if err := m.activate(hash, initiator); err != nil {
		t.Fatal(err)
	}
	file := random(48 << 10) // half a second's worth beyond the bucket
	send(t, ic, file)
	if got := recv(t, tc); !bytes.Equal(got, file) {
		t.Fatalf("got %d bytes, want %d (%d dropped before activation)", len(got), len(file), m.discarded.Load())
	}
	if m.throttled.Load() == 0 {
		t.Fatal("48 KiB went through a 16 KiB bucket at 64 KiB/s without waiting")
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(1<<20, t0) // 1 MiB/s, burst 256 KiB
	steps := []struct {
		at   time.Duration
		n    int
		wait time.Duration
	}{
		0: {0, 256 << 10, 0},                      // the burst
		1: {0, 512 << 10, 500 * time.Millisecond}, // in debt: paid by waiting
		2: {500 * time.Millisecond, 0, 0},         // paid off
		3: {750 * time.Millisecond, 128 << 10, 0}, // refilled meanwhile
		// Idle time refills at most the burst.
		4: {time.Hour, 512 << 10, 250 * time.Millisecond},
	}
	for i, s := range steps {
		if got := b.take(t0.Add(s.at), s.n); got != s.wait {
			t.Fatalf("step %d: wait %v, want %v", i, got, s.wait)
		}
	}
	if newBucket(1000, t0).burst != 16<<10 {
		t.Fatal("a slow bucket holds less than 16 KiB")
	}
}

// TestCloseLeaksNothing: Close ends every connection the proxy holds,
// waiting, paired or relaying, and returns once their goroutines are gone.
func TestCloseLeaksNothing(t *testing.T) {
	m, addr, stop := serveProxy(t, Options{BytesPerSecond: 64 << 10})
	socksConnect(t, addr, StreamHash("lone", initiator, target))
	pair(t, addr, StreamHash("paired", initiator, target))
	hash := StreamHash("relaying", initiator, target)
	tc, ic := pair(t, addr, hash)
	if err := m.activate(hash, initiator); err != nil {
		t.Fatal(err)
	}
	go ic.Write(random(1 << 20)) // throttled: 16 s at 64 KiB/s
	if _, err := io.ReadFull(tc, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	half, err := net.Dial("tcp", addr) // mid-handshake
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	half.Write([]byte{5})

	stop()
	if n := proxyGoroutines(); n != 0 {
		t.Fatalf("%d proxy goroutines after Close", n)
	}
	if len(m.conns) != 0 {
		t.Fatalf("%d connections after Close", len(m.conns))
	}
	// No longer listening, the proxy announces no address.
	if m.addr.Load() != nil {
		t.Fatal("the streamhost address outlived Serve")
	}
}

// proxyGoroutines counts goroutines running the proxy's methods.
func proxyGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "proxy65.(*Module)") {
			n++
		}
	}
	return n
}

// TestWhoMayUse: the proxy serves this server's users (XEP-0065 §6.3.1:
// others are forbidden); a malformed activation is refused.
func TestWhoMayUse(t *testing.T) {
	m := New(Options{})
	m.domain = jid.MustParse("example.com")
	m.jid = jid.MustParse("proxy.example.com")
	m.addr.Store(&streamhost{host: "proxy.example.com", port: 7777})
	remote := jid.MustParse("eve@elsewhere.example/x")
	query := func(sid, activate string) *xmlstream.Element {
		q := xmlstream.New("query", NS)
		if sid != "" {
			q.Attr = append(q.Attr, xmlstream.Attr{Name: "sid", Value: sid})
		}
		return q.Add(xmlstream.NewText("activate", NS, activate))
	}
	tests := []struct {
		from jid.JID
		q    *xmlstream.Element // nil: the streamhost request
		want string
	}{
		0: {from: initiator},
		1: {from: remote, want: "forbidden"},
		2: {from: jid.MustParse("example.com"), want: "forbidden"}, // the server itself
		3: {from: remote, q: query("s", target.String()), want: "forbidden"},
		4: {from: initiator, q: query("", target.String()), want: "bad-request"},
		5: {from: initiator, q: query("s", "@@"), want: "jid-malformed"},
		6: {from: initiator, q: query("s", target.String()), want: "item-not-found"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			st := stanza.New(stanza.IQ, tc.from, m.jid, "get", "x")
			var err error
			if tc.q == nil {
				var res *xmlstream.Element
				res, err = m.streamhost(st)
				if err == nil && !strings.Contains(res.String(), "host='proxy.example.com' port='7777'") {
					t.Fatalf("streamhost %s", res)
				}
			} else {
				err = m.activateIQ(st, tc.q)
			}
			got := ""
			var se *stanza.Error
			if errors.As(err, &se) {
				got = se.Condition()
			} else if err != nil {
				t.Fatalf("not a stanza error: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBytesRightAfterActivation: bytes a client sends as soon as the
// stream is active are relayed, even when the proxy's read that was
// waiting for the activation is the one that gets them (it dropped 512
// of them in 1 of about 20 rounds before).
func TestBytesRightAfterActivation(t *testing.T) {
	m, addr := startProxy(t, Options{})
	for i := range 100 {
		hash := StreamHash("sid-"+strconv.Itoa(i), initiator, target)
		tc, ic := pair(t, addr, hash)
		if err := m.activate(hash, initiator); err != nil {
			t.Fatal(err)
		}
		file := random(16 << 10)
		send(t, ic, file)
		if got := recv(t, tc); !bytes.Equal(got, file) {
			t.Fatalf("round %d: got %d bytes, want %d", i, len(got), len(file))
		}
		tc.Close()
		ic.Close()
	}
}
