package server_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/coder/websocket"

	"parley/internal/config"
	"parley/internal/xmpptest"
)

// proxyV2Header is what HAProxy's send-proxy-v2 sends first for a TCP
// client at src (IPv4).
func proxyV2Header(src string, port uint16) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr("127.0.0.1").As4()
	b = append(append(b, s[:]...), d[:]...)
	b = binary.BigEndian.AppendUint16(b, port)
	return binary.BigEndian.AppendUint16(b, 5222)
}

// dialVia connects to addr as a proxy would, sends header and logs in as
// alice over what follows.
func dialVia(t *testing.T, addr string, header []byte) (*xmpptest.Client, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(header); err != nil {
		t.Fatal(err)
	}
	c, err := xmpptest.DialConn(context.Background(), conn, xmpptest.Options{User: "alice", Password: password})
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

// Behind a trusted proxy (PROXY protocol v1 and v2 on the TCP listeners),
// the per-address connection cap counts each client, not the proxy: with
// a cap of one, two clients behind the proxy both log in and a second
// connection of the first is refused (issue 9 item 11).
func TestProxyProtocolCountsClients(t *testing.T) {
	srv := newServer(t, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.Limits.MaxConnectionsPerIP = 1
	})
	if _, err := dialVia(t, srv.C2S(), proxyV2Header("192.0.2.1", 40001)); err != nil {
		t.Fatalf("first client behind the proxy (v2): %v", err)
	}
	if _, err := dialVia(t, srv.C2S(), []byte("PROXY TCP4 192.0.2.2 127.0.0.1 40002 5222\r\n")); err != nil {
		t.Fatalf("second client behind the proxy (v1): %v", err)
	}
	if _, err := dialVia(t, srv.C2S(), proxyV2Header("192.0.2.1", 40003)); err == nil {
		t.Fatal("a second connection of 192.0.2.1 got past the cap of one")
	}
	// Direct TLS: the header comes before the TLS handshake.
	conn, err := net.Dial("tcp", srv.C2STLS())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(proxyV2Header("192.0.2.3", 40004))
	c, err := xmpptest.DialConn(context.Background(), conn, xmpptest.Options{User: "alice", Password: password, DirectTLS: true})
	if err != nil {
		t.Fatalf("client behind the proxy on direct TLS: %v", err)
	}
	c.Close()
}

// From an untrusted peer a PROXY header is not believed: the stream is
// not XMPP and ends, and the client's own address is counted.
func TestProxyProtocolFromUntrustedPeer(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.TrustedProxies = []string{"192.0.2.99"} })
	if _, err := dialVia(t, srv.C2S(), proxyV2Header("192.0.2.1", 40001)); err == nil {
		t.Fatal("a PROXY header from an untrusted peer was accepted")
	}
	if _, err := dialVia(t, srv.C2S(), nil); err != nil {
		t.Fatalf("plain login: %v", err)
	}
}

// wsVia opens a WebSocket stream as a proxy would, naming the client in
// X-Forwarded-For, and reports whether the server kept it (it closes a
// refused one with 1013 at once).
func wsVia(t *testing.T, srv string, xff string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	h := http.Header{}
	h.Set("X-Forwarded-For", xff)
	conn, _, err := websocket.Dial(ctx, "ws://"+srv+"/xmpp-websocket", &websocket.DialOptions{Subprotocols: []string{"xmpp"}, HTTPHeader: h})
	if err != nil {
		return false // the HTTP connection was refused
	}
	t.Cleanup(func() { conn.CloseNow() })
	if err := conn.Write(ctx, websocket.MessageText, []byte("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>")); err != nil {
		return false
	}
	_, msg, err := conn.Read(ctx)
	if websocket.CloseStatus(err) == websocket.StatusTryAgainLater {
		return false
	}
	if err != nil {
		t.Fatalf("ws read: %v", err)
	}
	_ = msg // the <open/> answer: the session runs
	return true
}

// X-Forwarded-For from a trusted proxy names the client that per-address
// limits count; from anyone else it is ignored.
func TestWebSocketForwardedFor(t *testing.T) {
	t.Run("trusted", func(t *testing.T) {
		srv := newServer(t, func(c *config.Config) {
			c.TrustedProxies = []string{"127.0.0.1"}
			c.Limits.MaxConnectionsPerIP = 1
		})
		if !wsVia(t, srv.HTTP(), "192.0.2.1") || !wsVia(t, srv.HTTP(), "192.0.2.66, 192.0.2.2") {
			t.Fatal("two clients behind the proxy were not both served")
		}
		if wsVia(t, srv.HTTP(), "192.0.2.1") {
			t.Fatal("a second stream of 192.0.2.1 got past the cap of one")
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		srv := newServer(t, func(c *config.Config) {
			c.TrustedProxies = []string{"192.0.2.99"}
			c.Limits.MaxConnectionsPerIP = 1
		})
		if !wsVia(t, srv.HTTP(), "192.0.2.1") {
			t.Fatal("first stream refused")
		}
		if wsVia(t, srv.HTTP(), "192.0.2.2") {
			t.Fatal("X-Forwarded-For from an untrusted peer was believed")
		}
	})
}
