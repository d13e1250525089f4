package xmpptest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 5 * time.Second

func TestDialMechanisms(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", "wonder land")
	for _, mech := range []string{xmpptest.ScramSHA256, xmpptest.ScramSHA1, xmpptest.Plain} {
		t.Run(mech, func(t *testing.T) {
			c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{
				User: "alice", Password: "wonder land", Resource: "r-" + mech, Mechanism: mech})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.JID != "alice@localhost/r-"+mech {
				t.Errorf("JID = %q", c.JID)
			}
			if c.TLS == nil {
				t.Error("STARTTLS was not negotiated")
			}
			if c.Bare() != "alice@localhost" {
				t.Errorf("Bare = %q", c.Bare())
			}
		})
	}
}

func TestDialWrongPassword(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", "secret")
	_, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "alice", Password: "wrong"})
	var ae *xmpptest.AuthError
	if !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("err = %v, want SASL not-authorized", err)
	}
}

func TestDialWebSocketPlaintextLoopback(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.AllowPlaintext = true })
	srv.AddUser(t, "alice", "secret")
	c, err := xmpptest.DialWebSocket(context.Background(), "ws://"+srv.HTTP()+"/xmpp-websocket",
		xmpptest.Options{User: "alice", Password: "secret", Resource: "ws"})
	if err != nil {
		t.Fatal(err)
	}
	if c.JID != "alice@localhost/ws" {
		t.Errorf("JID = %q", c.JID)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// Expect keeps what it skips, in order, for Recv.
func TestExpectBacklogAndIQ(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", "secret")
	ctx := context.Background()
	c, err := xmpptest.Dial(ctx, srv.C2S(), xmpptest.Options{User: "alice", Password: "secret", Resource: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, body := range []string{"one", "two", "three"} {
		if err := c.Send("<message to='" + c.JID + "' type='chat'><body>" + body + "</body></message>"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Expect(wait, xmpptest.MessageBody("three")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two"} {
		el, err := c.Recv(wait)
		if err != nil {
			t.Fatal(err)
		}
		if got := el.ChildText("body", ""); got != want {
			t.Fatalf("backlog body = %q, want %q", got, want)
		}
	}
	if _, err := c.Recv(100 * time.Millisecond); !errors.Is(err, xmpptest.ErrTimeout) {
		t.Fatalf("Recv on a quiet stream = %v, want ErrTimeout", err)
	}
	res, err := c.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>")
	if err != nil {
		t.Fatal(err)
	}
	if res.Get("type") != "result" {
		t.Fatalf("ping answer: %s", res)
	}
	_, err = c.Expect(200*time.Millisecond, func(*xmlstream.Element) bool { return false })
	if !errors.Is(err, xmpptest.ErrTimeout) {
		t.Fatalf("Expect of nothing = %v", err)
	}
}

func TestDialRawDirectTLS(t *testing.T) {
	srv := testserver.Start(t, nil)
	conn, err := xmpptest.DialRaw(context.Background(), srv.C2STLS(), xmpptest.InsecureTLS("localhost"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	if f, _ := xmpptest.StreamFeatures(t, conn, "localhost"); !strings.Contains(f, "SCRAM-SHA-256") {
		t.Fatalf("features over direct TLS lack SCRAM-SHA-256: %s", f)
	}
}
