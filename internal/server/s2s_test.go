package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
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
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "federation test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i, d := range domains {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: d},
			DNSNames: []string{d}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			KeyUsage:    x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		write(d+".pem", "CERTIFICATE", der)
		write(d+".key", "EC PRIVATE KEY", kder)
	}
	return filepath.Join(dir, "ca.pem")
}

func federated(t *testing.T, dir, ca, domain string) *testserver.Server {
	return testserver.Start(t, func(c *config.Config) {
		c.Domain = domain
		c.Cert = filepath.Join(dir, domain+".pem")
		c.Key = filepath.Join(dir, domain+".key")
		c.Listen.S2S = "127.0.0.1:0"
		c.S2S = config.S2S{Mode: config.S2SAllowlist, Allow: []string{"a.test", "b.test"}, CA: ca}
	})
}

// TestFederationTwoServers: two parley servers (a.test, b.test, a test CA,
// static routes on loopback) carry a chat message and a presence
// subscription both ways over real s2s streams.
func TestFederationTwoServers(t *testing.T) {
	dir := t.TempDir()
	ca := federationCA(t, dir, "a.test", "b.test")
	a, b := federated(t, dir, ca, "a.test"), federated(t, dir, ca, "b.test")
	server.SetS2SRoute(a.Server, "b.test", b.Addr("s2s").String())
	server.SetS2SRoute(b.Server, "a.test", a.Addr("s2s").String())
	a.AddUser(t, "alice", "pw")
	b.AddUser(t, "bob", "pw")
	alice := xmpptest.Online(t, a.C2S(), xmpptest.Options{Domain: "a.test", User: "alice", Password: "pw", Resource: "x"})
	bob := xmpptest.Online(t, b.C2S(), xmpptest.Options{Domain: "b.test", User: "bob", Password: "pw", Resource: "y"})

	alice.Send("<message to='bob@b.test' type='chat' id='m1'><body>hi bob</body></message>")
	if _, err := bob.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == "alice@a.test/x" && el.ChildText("body", "jabber:client") == "hi bob"
	}); err != nil {
		t.Fatal(err)
	}
	bob.Send("<message to='alice@a.test/x' type='chat' id='m2'><body>hi alice</body></message>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == "bob@b.test/y" && el.ChildText("body", "jabber:client") == "hi alice"
	}); err != nil {
		t.Fatal(err)
	}
	// RFC 6121 §3.1: subscribe one way, subscribed back.
	alice.Send("<presence to='bob@b.test' type='subscribe'/>")
	if _, err := bob.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("type") == "subscribe" && el.Get("from") == "alice@a.test"
	}); err != nil {
		t.Fatal(err)
	}
	bob.Send("<presence to='alice@a.test' type='subscribed'/>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("type") == "subscribed" && el.Get("from") == "bob@b.test"
	}); err != nil {
		t.Fatal(err)
	}
	// Each side recorded the other as a new remote domain (audit log).
	for _, srv := range []*testserver.Server{a, b} {
		st := srv.Store().(store.Audit)
		xmpptest.Eventually(t, 10*time.Second, func() error {
			recs, err := audit.Query(context.Background(), st, store.AuditQuery{Action: audit.ActionFederationLink})
			if err != nil || len(recs) == 0 {
				return fmt.Errorf("no federation-link record: %v %v", recs, err)
			}
			return nil
		})
	}
	// A domain outside the allow-list: bounced, and the refusal audited.
	alice.Send("<message to='carol@c.test' type='chat' id='m3'><body>hi</body></message>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("id") == "m3" && el.Get("type") == "error"
	}); err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, 10*time.Second, func() error {
		recs, err := audit.Query(context.Background(), a.Store().(store.Audit), store.AuditQuery{Action: audit.ActionFederationRefused})
		if err != nil || len(recs) != 1 || recs[0].Target != "c.test" || recs[0].Details["reason"] != "policy" {
			return fmt.Errorf("refusal records: %+v %v", recs, err)
		}
		return nil
	})
	// An IQ to the remote server itself, answered across the link
	// (XEP-0199 ping).
	alice.Send("<iq to='b.test' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "iq" && el.Get("id") == "p1" && el.Get("type") == "result" && el.Get("from") == "b.test"
	}); err != nil {
		t.Fatal(err)
	}
	// Now subscribed, alice sees bob's presence when he sends it again.
	bob.Send("<presence><status>here</status></presence>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == "bob@b.test/y" && el.Get("type") == ""
	}); err != nil {
		t.Fatal(err)
	}
}

// TestFederationOffByDefault: without [s2s] a remote domain still gets
// remote-server-not-found, as before federation existed.
func TestFederationOffByDefault(t *testing.T) {
	s := testserver.Start(t, nil)
	if s.Addr("s2s") != nil {
		t.Fatal("s2s listener open with federation off")
	}
	s.AddUser(t, "alice", "pw")
	alice := s.Online(t, "alice", "pw", "x")
	alice.Send("<message to='bob@b.test' type='chat' id='m1'><body>hi</body></message>")
	if _, err := alice.Expect(5*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("type") == "error" && el.Child("error", "jabber:client") != nil &&
			el.Child("error", "jabber:client").Child("remote-server-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas") != nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestFederationPeerDown: a message to a domain whose server is gone
// comes back to the sender with remote-server-not-found (RFC 6120
// §10.4.3), not silently dropped.
func TestFederationPeerDown(t *testing.T) {
	dir := t.TempDir()
	ca := federationCA(t, dir, "a.test", "b.test")
	a := federated(t, dir, ca, "a.test")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close() // nothing listens there any more
	server.SetS2SRoute(a.Server, "b.test", gone)
	a.AddUser(t, "alice", "pw")
	alice := xmpptest.Online(t, a.C2S(), xmpptest.Options{Domain: "a.test", User: "alice", Password: "pw", Resource: "x"})
	alice.Send("<message to='bob@b.test' type='chat' id='m1'><body>anyone?</body></message>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		e := el.Child("error", "jabber:client")
		return el.Name == "message" && el.Get("id") == "m1" && el.Get("type") == "error" && e != nil &&
			e.Child("remote-server-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas") != nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestFederationPing: an idle link between two parley servers is pinged
// (XEP-0199 §4.3) from a.test to b.test; b's ping module answers over its
// own link back, a's s2s takes the answer, and the link still carries chat.
func TestFederationPing(t *testing.T) {
	dir := t.TempDir()
	ca := federationCA(t, dir, "a.test", "b.test")
	start := func(domain string) *testserver.Server {
		return testserver.Start(t, func(c *config.Config) {
			c.Domain = domain
			c.Cert = filepath.Join(dir, domain+".pem")
			c.Key = filepath.Join(dir, domain+".key")
			c.Listen.S2S = "127.0.0.1:0"
			c.S2S = config.S2S{Mode: config.S2SOpen, CA: ca, PingInterval: config.Duration{Duration: time.Second}}
		})
	}
	a, b := start("a.test"), start("b.test")
	server.SetS2SRoute(a.Server, "b.test", b.Addr("s2s").String())
	server.SetS2SRoute(b.Server, "a.test", a.Addr("s2s").String())
	a.AddUser(t, "alice", "pw")
	b.AddUser(t, "bob", "pw")
	alice := xmpptest.Online(t, a.C2S(), xmpptest.Options{Domain: "a.test", User: "alice", Password: "pw", Resource: "x"})
	bob := xmpptest.Online(t, b.C2S(), xmpptest.Options{Domain: "b.test", User: "bob", Password: "pw", Resource: "y"})
	chat := func(body string) {
		t.Helper()
		alice.Send("<message to='bob@b.test' type='chat'><body>" + body + "</body></message>")
		if _, err := bob.Expect(10*time.Second, func(el *xmlstream.Element) bool {
			return el.Name == "message" && el.ChildText("body", "jabber:client") == body
		}); err != nil {
			t.Fatal(err)
		}
	}
	chat("before")
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if n := server.S2SPongs(a.Server); n == 0 {
			return fmt.Errorf("no ping answered")
		}
		return nil
	})
	chat("after")
}

// TestFederationDirectTLS: b.test listens on [listen] s2s_tls (XEP-0368)
// and a.test reaches it through a "tls://" static route; chat goes both
// ways between the two parley servers.
func TestFederationDirectTLS(t *testing.T) {
	dir := t.TempDir()
	ca := federationCA(t, dir, "a.test", "b.test")
	a := federated(t, dir, ca, "a.test")
	b := testserver.Start(t, func(c *config.Config) {
		c.Domain = "b.test"
		c.Cert = filepath.Join(dir, "b.test.pem")
		c.Key = filepath.Join(dir, "b.test.key")
		c.Listen.S2S = "127.0.0.1:0"
		c.Listen.S2STLS = "127.0.0.1:0"
		c.S2S = config.S2S{Mode: config.S2SAllowlist, Allow: []string{"a.test"}, CA: ca}
	})
	if b.Addr("s2s_tls") == nil {
		t.Fatal("no s2s_tls listener")
	}
	server.SetS2SRoute(a.Server, "b.test", "tls://"+b.Addr("s2s_tls").String())
	server.SetS2SRoute(b.Server, "a.test", a.Addr("s2s").String())
	a.AddUser(t, "alice", "pw")
	b.AddUser(t, "bob", "pw")
	alice := xmpptest.Online(t, a.C2S(), xmpptest.Options{Domain: "a.test", User: "alice", Password: "pw", Resource: "x"})
	bob := xmpptest.Online(t, b.C2S(), xmpptest.Options{Domain: "b.test", User: "bob", Password: "pw", Resource: "y"})
	alice.Send("<message to='bob@b.test' type='chat' id='m1'><body>direct</body></message>")
	if _, err := bob.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == "alice@a.test/x" && el.ChildText("body", "jabber:client") == "direct"
	}); err != nil {
		t.Fatal(err)
	}
	bob.Send("<message to='alice@a.test/x' type='chat' id='m2'><body>reply</body></message>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == "bob@b.test/y" && el.ChildText("body", "jabber:client") == "reply"
	}); err != nil {
		t.Fatal(err)
	}
}

// TestFederationReloadPolicy: a reload (SIGHUP) that removes b.test from
// a.test's allow-list applies at once: alice's next message bounces, and
// the reload reports nothing waiting for a restart.
func TestFederationReloadPolicy(t *testing.T) {
	dir := t.TempDir()
	ca := federationCA(t, dir, "a.test", "b.test")
	a, b := federated(t, dir, ca, "a.test"), federated(t, dir, ca, "b.test")
	server.SetS2SRoute(a.Server, "b.test", b.Addr("s2s").String())
	server.SetS2SRoute(b.Server, "a.test", a.Addr("s2s").String())
	a.AddUser(t, "alice", "pw")
	b.AddUser(t, "bob", "pw")
	alice := xmpptest.Online(t, a.C2S(), xmpptest.Options{Domain: "a.test", User: "alice", Password: "pw", Resource: "x"})
	bob := xmpptest.Online(t, b.C2S(), xmpptest.Options{Domain: "b.test", User: "bob", Password: "pw", Resource: "y"})
	alice.Send("<message to='bob@b.test' type='chat' id='m1'><body>before</body></message>")
	if _, err := bob.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.ChildText("body", "jabber:client") == "before"
	}); err != nil {
		t.Fatal(err)
	}
	cfg := a.Config
	cfg.S2S.Allow = []string{"a.test"}
	restart, err := a.Reload(cfg)
	if err != nil || len(restart) != 0 {
		t.Fatalf("reload: %v, restart needed for %v", err, restart)
	}
	alice.Send("<message to='bob@b.test' type='chat' id='m2'><body>after</body></message>")
	if _, err := alice.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		e := el.Child("error", "jabber:client")
		return el.Name == "message" && el.Get("id") == "m2" && el.Get("type") == "error" && e != nil &&
			e.Child("remote-server-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas") != nil
	}); err != nil {
		t.Fatal(err)
	}
}
