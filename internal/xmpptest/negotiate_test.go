package xmpptest_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"parley/internal/xmpptest"
)

// TestNegotiateKeepsEarlyBytes: what a server sends right behind the bind
// result is read from the connection Negotiate returns, not lost in the
// client's buffer. The server is a script on an in-memory pipe, one
// write per step.
func TestNegotiateKeepsEarlyBytes(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	go io.Copy(io.Discard, server) // what the client says is not checked
	const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s' version='1.0'>"
	const early = "<message from='localhost'><body>early</body></message>"
	go func() {
		for _, step := range []string{
			header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
			"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
			header + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
			"<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/r</jid></bind></iq>" + early,
		} {
			if _, err := server.Write([]byte(step)); err != nil {
				return
			}
		}
	}()
	conn, full, err := xmpptest.Negotiate(context.Background(), client, xmpptest.Options{User: "alice", Password: "pw", Mechanism: xmpptest.Plain})
	if err != nil {
		t.Fatal(err)
	}
	if full != "alice@localhost/r" {
		t.Fatalf("bound %q", full)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	var got strings.Builder
	buf := make([]byte, 256)
	for got.Len() < len(early) {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read %q, then %v", got.String(), err)
		}
		got.Write(buf[:n])
	}
	if got.String() != early {
		t.Fatalf("read %q, want %q", got.String(), early)
	}
}
