package c2s_test

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 5 * time.Second

// TestStreamErrors checks stream-level rejections of RFC 6120 §4.9.3 that
// happen after authentication: each ends the stream with its condition.
func TestStreamErrors(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	tests := []struct {
		send string
		want string
	}{
		0: {`<message from='mallory@localhost/x' to='alice@localhost'><body>forged</body></message>`, "invalid-from"},
		1: {`<message xmlns='urn:example:wrong' to='alice@localhost'><body>x</body></message>`, "invalid-namespace"},
		2: {`<foo xmlns='urn:example:nonza'/>`, "unsupported-stanza-type"},
		3: {`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, "policy-violation"},
		4: {`<message><body>x</body></wrong>`, "not-well-formed"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "alice", Password: "pw-alice"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Kill()
			if err := c.Send(tc.send); err != nil {
				t.Fatal(err)
			}
			el, err := c.Expect(wait, xmpptest.IsStreamError)
			if err != nil {
				t.Fatalf("no stream error: %v", err)
			}
			if got := xmpptest.StreamErrorCondition(el); got != tc.want {
				t.Fatalf("condition %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFromBareJIDAccepted: a client may put its bare JID in 'from'
// (RFC 6120 §8.1.2.1); the server stamps the full JID.
func TestFromBareJIDAccepted(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "alice", Password: "pw-alice", Resource: "home"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(`<iq type='get' id='p1' from='alice@localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
		t.Fatal(err)
	}
	el, err := c.Expect(wait, xmpptest.Stanza("iq", "result", ""))
	if err != nil {
		t.Fatal(err)
	}
	if el.Get("to") != "alice@localhost/home" {
		t.Fatalf("reply to %q, want the full JID", el.Get("to"))
	}
}

// TestTimeoutsAndKeepalives drives the sweeper with short timeouts: an
// idle bound client first gets whitespace and a ping, and is closed with
// connection-timeout only if it stays silent; a client that never
// authenticates is closed too.
func TestTimeoutsAndKeepalives(t *testing.T) {
	srv := testserver.Quiet(t, func(c *config.Config) {
		c.Limits.Keepalive = config.Duration{Duration: 1 * time.Second}
		c.Limits.IdleTimeout = config.Duration{Duration: 4 * time.Second}
		c.Limits.AuthTimeout = config.Duration{Duration: 2 * time.Second}
	})
	srv.AddUser(t, "alice", "pw-alice")

	t.Run("idle bound client is pinged then timed out", func(t *testing.T) {
		c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "alice", Password: "pw-alice"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Kill()
		ping, err := c.Expect(wait, func(el *xmlstream.Element) bool {
			return el.Name == "iq" && el.Get("type") == "get" && el.Child("ping", "urn:xmpp:ping") != nil
		})
		if err != nil {
			t.Fatalf("no server ping: %v", err)
		}
		if ping.Get("from") != "localhost" {
			t.Errorf("ping from %q", ping.Get("from"))
		}
		el, err := c.Expect(2*wait, xmpptest.IsStreamError)
		if err != nil {
			t.Fatalf("no timeout: %v", err)
		}
		if got := xmpptest.StreamErrorCondition(el); got != "connection-timeout" {
			t.Fatalf("condition %q", got)
		}
	})

	t.Run("client answering pings stays", func(t *testing.T) {
		c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "alice", Password: "pw-alice"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		deadline := time.Now().Add(7 * time.Second) // well past the idle timeout
		for time.Now().Before(deadline) {
			el, err := c.Recv(time.Until(deadline))
			if err != nil {
				break // timeout: nothing more arrived
			}
			if xmpptest.IsStreamError(el) {
				t.Fatalf("stream closed although the client answered: %s", el)
			}
			if el.Name == "iq" && el.Get("type") == "get" {
				c.Send("<iq type='result' id='" + el.Get("id") + "' to='" + el.Get("from") + "'/>")
			}
		}
	})

	t.Run("unauthenticated stream is closed", func(t *testing.T) {
		conn, err := xmpptest.DialRaw(context.Background(), srv.C2S(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write([]byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"))
		conn.SetReadDeadline(time.Now().Add(2 * wait))
		all, _ := readAll(bufio.NewReader(conn))
		if !strings.Contains(all, "connection-timeout") {
			t.Fatalf("got %q", all)
		}
	})
}

func readAll(r *bufio.Reader) (string, error) {
	var b strings.Builder
	_, err := r.WriteTo(&b)
	return b.String(), err
}

// TestHeaderRejections: errors in the stream header itself (RFC 6120 §4.9.3).
func TestHeaderRejections(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	tests := []struct{ header, want string }{
		0: {`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>`, "unsupported-version"},
		1: {`<stream:stream xmlns='jabber:client' xmlns:stream='urn:example:wrong' to='localhost' version='1.0'>`, "invalid-namespace"},
		2: {`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='elsewhere.example' version='1.0'>`, "host-unknown"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			conn, err := xmpptest.DialRaw(context.Background(), srv.C2S(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte(tc.header))
			conn.SetReadDeadline(time.Now().Add(wait))
			all, _ := readAll(bufio.NewReader(conn))
			if !strings.Contains(all, "<"+tc.want+" xmlns='urn:ietf:params:xml:ns:xmpp-streams'") {
				t.Fatalf("want %s, got %q", tc.want, all)
			}
			if !strings.Contains(all, "<stream:stream") || !strings.HasSuffix(all, "</stream:stream>") {
				t.Fatalf("error must follow a header and end the stream: %q", all)
			}
		})
	}
}
