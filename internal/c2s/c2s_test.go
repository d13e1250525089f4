package c2s_test

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/c2stest"
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
	c := login(t, srv.C2S(), "alice", "home")
	defer c.Close()
	expectAnsweredTo(t, c, "alice@localhost", "alice@localhost/home")
}

// TestTimeoutsAndKeepalives drives the sweeper on a fake clock with the
// default timeouts (idle 10 min, authentication 1 min): an idle bound
// client first gets a ping, and is closed with connection-timeout only if
// it stays silent; a client that answers stays; a client that never
// authenticates is closed too.
func TestTimeoutsAndKeepalives(t *testing.T) {
	srv := c2stest.Start(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	isPing := func(el *xmlstream.Element) bool {
		return el.Name == "iq" && el.Get("type") == "get" && el.Child("ping", "urn:xmpp:ping") != nil
	}

	t.Run("idle bound client is pinged then timed out", func(t *testing.T) {
		c := srv.Login(t, "alice", "pw-alice", "")
		srv.Advance(t, 6*time.Minute)
		ping, err := c.Expect(wait, isPing)
		if err != nil {
			t.Fatalf("no server ping: %v", err)
		}
		if ping.Get("from") != "localhost" {
			t.Errorf("ping from %q", ping.Get("from"))
		}
		srv.Advance(t, 5*time.Minute)
		el, err := c.Expect(wait, xmpptest.IsStreamError)
		if err != nil {
			t.Fatalf("no timeout: %v", err)
		}
		if got := xmpptest.StreamErrorCondition(el); got != "connection-timeout" {
			t.Fatalf("condition %q", got)
		}
	})

	t.Run("client answering pings stays", func(t *testing.T) {
		c := srv.Login(t, "alice", "pw-alice", "")
		for range 3 { // 18 minutes, well past the idle timeout
			srv.Advance(t, 6*time.Minute)
			ping, err := c.Expect(wait, isPing)
			if err != nil {
				t.Fatalf("no server ping: %v", err)
			}
			c.Send("<iq type='result' id='" + ping.Get("id") + "' to='" + ping.Get("from") + "'/>")
			// Answered in order: the server has read the answer above
			// before the clock moves on.
			if _, err := c.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
				t.Fatalf("stream closed although the client answered: %v", err)
			}
		}
	})

	t.Run("unauthenticated stream is closed", func(t *testing.T) {
		conn, err := srv.DialRaw()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(wait))
		// The features show that the session runs before the clock moves.
		_, r := xmpptest.StreamFeatures(t, conn, "localhost")
		srv.Advance(t, 2*time.Minute)
		rest, _ := readAll(r)
		if !strings.Contains(rest, "connection-timeout") {
			t.Fatalf("got %q", rest)
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
