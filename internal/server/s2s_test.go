package server_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/server"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// federationCA writes a test CA and a certificate per domain into dir;
// it returns the CA bundle's path.
func federationCA(t *testing.T, dir string, domains ...string) string {
	t.Helper()
	ca := xmpptest.NewCA(t, "federation test CA")
	ca.WriteCert(t, filepath.Join(dir, "ca.pem"))
	for _, d := range domains {
		ca.WriteIssued(t, d, filepath.Join(dir, d+".pem"), filepath.Join(dir, d+".key"))
	}
	return filepath.Join(dir, "ca.pem")
}

// federation starts a.test and b.test, each with users alice, bob and
// carol (password), sharing a test CA, federating in allow-list mode with
// each other (and each other's rooms) and reaching each other through
// static routes on loopback.
// configure, if not nil, changes both configurations after that.
func federation(t *testing.T, configure func(*config.Config)) (a, b *testserver.Server) {
	t.Helper()
	dir := t.TempDir()
	ca := federationCA(t, dir, "a.test", "b.test")
	start := func(domain string) *testserver.Server {
		s := testserver.Start(t, func(c *config.Config) {
			c.Domain = domain
			c.Cert = filepath.Join(dir, domain+".pem")
			c.Key = filepath.Join(dir, domain+".key")
			c.Listen.S2S = "127.0.0.1:0"
			c.S2S = config.S2S{Mode: config.S2SAllowlist, CA: ca,
				Allow: []string{"a.test", "b.test", "conference.a.test", "conference.b.test"}}
			if configure != nil {
				configure(c)
			}
		})
		for _, u := range []string{"alice", "bob", "carol"} {
			s.AddUser(t, u, password)
		}
		return s
	}
	a, b = start("a.test"), start("b.test")
	// Each server also serves its rooms' domain (XEP-0045).
	for _, d := range []string{"b.test", "conference.b.test"} {
		server.SetS2SRoute(a.Server, d, b.Addr("s2s").String())
	}
	for _, d := range []string{"a.test", "conference.a.test"} {
		server.SetS2SRoute(b.Server, d, a.Addr("s2s").String())
	}
	return a, b
}

// fedOnline logs user of s's domain in as resource and, as clients do,
// requests the roster (so that it gets roster pushes, RFC 6121 §2.1.6)
// and sends initial presence.
func fedOnline(t *testing.T, s *testserver.Server, user, resource string) *xmpptest.Client {
	t.Helper()
	c := xmpptest.Login(t, s.C2S(), xmpptest.Options{Domain: s.Config.Domain, User: user, Password: password, Resource: resource})
	if res, err := c.IQ(wait, "get", "", "<query xmlns='jabber:iq:roster'/>"); err != nil || res.Get("type") != "result" {
		t.Fatalf("%s roster get: %v %s", c.JID, err, res)
	}
	send(t, c, "<presence/>")
	return c
}

// federationOnline is federation with alice@a.test/x and bob@b.test/y online.
func federationOnline(t *testing.T, configure func(*config.Config)) (a, b *testserver.Server, alice, bob *xmpptest.Client) {
	t.Helper()
	a, b = federation(t, configure)
	return a, b, fedOnline(t, a, "alice", "x"), fedOnline(t, b, "bob", "y")
}

// chat sends body from one client to the address to and waits for it at
// the client at, from the sender's full JID.
func chat(t *testing.T, from *xmpptest.Client, to string, at *xmpptest.Client, body string) {
	t.Helper()
	send(t, from, "<message to='"+to+"' type='chat'><body>"+body+"</body></message>")
	expect(t, at, "message "+body, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == from.JID && el.ChildText("body", "") == body
	})
}

// bouncedWith waits for the error answer to the message with id and checks
// its condition.
func bouncedWith(t *testing.T, c *xmpptest.Client, id, condition string) {
	t.Helper()
	el := expect(t, c, "the bounce of "+id, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("id") == id
	})
	if el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != condition {
		t.Fatalf("answer to %s: %s, want a %s error", id, el, condition)
	}
}

// TestFederationTwoServers: two parley servers (a.test, b.test, a test CA,
// static routes on loopback) carry a chat message and a presence
// subscription both ways over real s2s streams.
func TestFederationTwoServers(t *testing.T) {
	a, b, alice, bob := federationOnline(t, nil)
	chat(t, alice, "bob@b.test", bob, "hi bob")
	chat(t, bob, "alice@a.test/x", alice, "hi alice")
	// RFC 6121 §3.1: subscribe one way, subscribed back.
	send(t, alice, "<presence to='bob@b.test' type='subscribe'/>")
	expect(t, bob, "subscribe", xmpptest.Stanza("presence", "subscribe", "alice@a.test"))
	send(t, bob, "<presence to='alice@a.test' type='subscribed'/>")
	expect(t, alice, "subscribed", xmpptest.Stanza("presence", "subscribed", "bob@b.test"))
	// Each side recorded the other as a new remote domain (audit log).
	for _, srv := range []*testserver.Server{a, b} {
		st := srv.Store().(store.Audit)
		xmpptest.Eventually(t, wait, func() error {
			recs, err := audit.Query(context.Background(), st, store.AuditQuery{Action: audit.ActionFederationLink})
			if err != nil || len(recs) == 0 {
				return fmt.Errorf("no federation-link record: %v %v", recs, err)
			}
			return nil
		})
	}
	// A domain outside the allow-list: bounced, and the refusal audited.
	send(t, alice, "<message to='carol@c.test' type='chat' id='m3'><body>hi</body></message>")
	bouncedWith(t, alice, "m3", "remote-server-not-found")
	xmpptest.Eventually(t, wait, func() error {
		recs, err := audit.Query(context.Background(), a.Store().(store.Audit), store.AuditQuery{Action: audit.ActionFederationRefused})
		if err != nil || len(recs) != 1 || recs[0].Target != "c.test" || recs[0].Details["reason"] != "policy" {
			return fmt.Errorf("refusal records: %+v %v", recs, err)
		}
		return nil
	})
	// An IQ to the remote server itself, answered across the link
	// (XEP-0199 ping).
	if res, err := alice.IQ(wait, "get", "b.test", "<ping xmlns='urn:xmpp:ping'/>"); err != nil || res.Get("type") != "result" || res.Get("from") != "b.test" {
		t.Fatalf("ping b.test: %v %v", res, err)
	}
	// Now subscribed, alice sees bob's presence when he sends it again.
	send(t, bob, "<presence><status>here</status></presence>")
	expect(t, alice, "bob's presence", func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == "bob@b.test/y" && el.Get("type") == ""
	})
}

// TestFederationOffByDefault: without [s2s] a remote domain still gets
// remote-server-not-found, as before federation existed.
func TestFederationOffByDefault(t *testing.T) {
	s := newServer(t, nil)
	if s.Addr("s2s") != nil {
		t.Fatal("s2s listener open with federation off")
	}
	alice := online(t, s, "alice", "x")
	send(t, alice, "<message to='bob@b.test' type='chat' id='m1'><body>hi</body></message>")
	bouncedWith(t, alice, "m1", "remote-server-not-found")
}

// TestFederationPeerDown: a message to a domain whose server is gone
// comes back to the sender with remote-server-not-found (RFC 6120
// §10.4.3), not silently dropped.
func TestFederationPeerDown(t *testing.T) {
	a, _ := federation(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close() // nothing listens there any more
	server.SetS2SRoute(a.Server, "b.test", gone)
	alice := fedOnline(t, a, "alice", "x")
	send(t, alice, "<message to='bob@b.test' type='chat' id='m1'><body>anyone?</body></message>")
	bouncedWith(t, alice, "m1", "remote-server-not-found")
}

// TestFederationPing: an idle link between two parley servers is pinged
// (XEP-0199 §4.3) from a.test to b.test; b's ping module answers over its
// own link back, a's s2s takes the answer, and the link still carries chat.
func TestFederationPing(t *testing.T) {
	a, _, alice, bob := federationOnline(t, func(c *config.Config) {
		c.S2S.Mode, c.S2S.PingInterval = config.S2SOpen, config.Duration{Duration: time.Second}
	})
	chat(t, alice, "bob@b.test", bob, "before")
	xmpptest.Eventually(t, wait, func() error {
		if n := server.S2SPongs(a.Server); n == 0 {
			return fmt.Errorf("no ping answered")
		}
		return nil
	})
	chat(t, alice, "bob@b.test", bob, "after")
}

// TestFederationDirectTLS: b.test listens on [listen] s2s_tls (XEP-0368)
// and a.test reaches it through a "tls://" static route; chat goes both
// ways between the two parley servers.
func TestFederationDirectTLS(t *testing.T) {
	a, b, alice, bob := federationOnline(t, func(c *config.Config) {
		if c.Domain == "b.test" {
			c.Listen.S2STLS = "127.0.0.1:0"
		}
	})
	if b.Addr("s2s_tls") == nil {
		t.Fatal("no s2s_tls listener")
	}
	server.SetS2SRoute(a.Server, "b.test", "tls://"+b.Addr("s2s_tls").String())
	chat(t, alice, "bob@b.test", bob, "direct")
	chat(t, bob, "alice@a.test/x", alice, "reply")
}

// TestFederationReloadPolicy: a reload (SIGHUP) that removes b.test from
// a.test's allow-list applies at once: alice's next message bounces, and
// the reload reports nothing waiting for a restart.
func TestFederationReloadPolicy(t *testing.T) {
	a, _, alice, bob := federationOnline(t, nil)
	chat(t, alice, "bob@b.test", bob, "before")
	cfg := a.Config
	cfg.S2S.Allow = []string{"a.test"}
	restart, err := a.Reload(cfg)
	if err != nil || len(restart) != 0 {
		t.Fatalf("reload: %v, restart needed for %v", err, restart)
	}
	send(t, alice, "<message to='bob@b.test' type='chat' id='m2'><body>after</body></message>")
	bouncedWith(t, alice, "m2", "remote-server-not-found")
}
