package s2s

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"parley/internal/stanza"
	"parley/internal/xmpptest"
)

// TestDirectTLS: b also listens for TLS from the first byte (XEP-0368);
// a reaches it through a "tls://" static route, authenticates with SASL
// EXTERNAL as after STARTTLS, and chat goes both ways. The listener
// takes only TLS with ALPN xmpp-server (or none), never plain XML.
func TestDirectTLS(t *testing.T) {
	ca := xmpptest.NewCA(t, "test CA")
	la, lb, lbTLS := listen(t), listen(t), listen(t)
	routesA := map[string]string{"b.test": DirectTLSPrefix + lbTLS.Addr().String()}
	routesB := map[string]string{"a.test": la.Addr().String()}
	a := start(t, "a.test", la, ca.Issue(t, "a.test"), ca.Pool, routesA)
	b := start(t, "b.test", lb, ca.Issue(t, "b.test"), ca.Pool, routesB)
	go b.svc.ServeDirectTLS(lbTLS)
	t.Cleanup(func() { lbTLS.Close() })
	lb.Close() // only the direct TLS listener is left for a to use

	a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "over direct tls"))
	if got := b.r.next(t); got.El.ChildText("body", stanza.NSClient) != "over direct tls" || got.From.String() != "alice@a.test/x" {
		t.Fatalf("b got %s", got.Bytes())
	}
	b.svc.Send(context.Background(), msg(t, "bob@b.test/y", "alice@a.test", "back"))
	if got := a.r.next(t); got.El.ChildText("body", stanza.NSClient) != "back" {
		t.Fatalf("a got %s", got.Bytes())
	}

	// Plain XML on the direct TLS port: no stream, the connection closes.
	c, err := net.Dial("tcp", lbTLS.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='b.test' version='1.0'>"))
	if b, err := io.ReadAll(c); len(b) > 0 && b[0] == '<' {
		t.Fatalf("plain stream answered: %q %v", b, err)
	}
	// A client protocol in ALPN: refused in the handshake (XEP-0368 §3).
	tc, err := tls.Dial("tcp", lbTLS.Addr().String(), &tls.Config{ServerName: "b.test", RootCAs: ca.Pool, NextProtos: []string{"xmpp-client"}})
	if err == nil {
		tc.Close()
		t.Fatal("handshake with ALPN xmpp-client accepted")
	}
}
