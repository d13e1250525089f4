package c2s_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// turnConn counts the client's round trips: each read that follows a
// write is one more wait for the server.
type turnConn struct {
	net.Conn
	mu    sync.Mutex // guards wrote and turns
	wrote bool
	turns int
}

func (c *turnConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.wrote = true
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *turnConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if n > 0 && c.wrote {
		c.turns, c.wrote = c.turns+1, false
	}
	c.mu.Unlock()
	return n, err
}

// BenchmarkLogin: a phone's login over STARTTLS (TLS 1.3) on loopback,
// up to a bound session with stream management on, by each path: RFC 6120
// SASL then bind and <enable/>; SASL2 with Bind 2 inline; a FAST token.
// round-trips/op counts the client's waits for the server from the TCP
// connection on (4 of them are the stream header, STARTTLS and the TLS
// handshake, the same for all); on a phone network they, not the
// server's microseconds, make the difference. The client caches its
// PBKDF2, as clients do.
func BenchmarkLogin(b *testing.B) {
	srv := testserver.Quiet(b, nil)
	srv.AddUser(b, "alice", "pw-alice")
	keys := &xmpptest.KeyCache{}
	ctx := context.Background()
	first, err := xmpptest.Dial(ctx, srv.C2S(), xmpptest.Options{User: "alice", Password: "pw-alice", Keys: keys,
		SASL2: &xmpptest.SASL2{UserAgent: phoneUA, Bind: true, Extra: requestToken}})
	if err != nil {
		b.Fatal(err)
	}
	token := tokenOf(first).Get("token")
	first.Close()
	inline := "<enable xmlns='urn:xmpp:sm:3'/>"
	for _, bc := range []struct {
		name string
		o    xmpptest.Options
	}{
		{"SASL1+bind+sm", xmpptest.Options{}},
		{"SASL2+Bind2", xmpptest.Options{SASL2: &xmpptest.SASL2{UserAgent: phoneUA, Bind: true, Inline: inline}}},
		{"FAST", xmpptest.Options{Mechanism: xmpptest.HTSHA256None, SASL2: &xmpptest.SASL2{UserAgent: phoneUA, Bind: true, Inline: inline, Token: token}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := bc.o
			o.User, o.Password, o.Keys = "alice", "pw-alice", keys
			turns := 0
			for b.Loop() {
				raw, err := net.Dial("tcp", srv.C2S())
				if err != nil {
					b.Fatal(err)
				}
				tc := &turnConn{Conn: raw}
				c, err := xmpptest.DialConn(ctx, tc, o)
				if err != nil {
					b.Fatal(err)
				}
				if o.SASL2 == nil {
					c.Send(inline)
					if _, err := c.Expect(wait, isSM("enabled")); err != nil {
						b.Fatal(err)
					}
				}
				tc.mu.Lock()
				turns += tc.turns
				tc.mu.Unlock()
				c.Close()
			}
			b.ReportMetric(float64(turns)/float64(b.N), "round-trips/op")
		})
	}
}
