package proxy65_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/jid"
	"parley/internal/proxy65"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	password = "proxy pass 1"
	proxyJID = "proxy.localhost"
	wait     = 10 * time.Second
)

// socks5 connects to the proxy as XEP-0065 §6.3.2 says: no
// authentication, CONNECT to DOMAINNAME hash, port 0. It returns the
// connection once the proxy said yes.
func socks5(t *testing.T, addr, hash string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(wait))
	req := append([]byte{5, 1, 0, 5, 1, 0, 3, byte(len(hash))}, hash...)
	req = append(req, 0, 0)
	// The greeting and the request together: the proxy reads them in turn.
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	// The method chosen (no authentication), then success with the
	// request's address and port echoed (BND.ADDR, BND.PORT).
	want := append([]byte{5, 0, 5, 0, 0, 3, byte(len(hash))}, hash...)
	want = append(want, 0, 0)
	reply := make([]byte, len(want))
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatalf("SOCKS5 reply: %v", err)
	}
	if !bytes.Equal(reply, want) {
		t.Fatalf("SOCKS5 reply %x, want %x", reply, want)
	}
	c.SetDeadline(time.Time{})
	return c
}

func iqOK(t *testing.T, c *xmpptest.Client, typ, to, payload string) *xmlstream.Element {
	t.Helper()
	res, err := c.IQ(wait, typ, to, payload)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("%s: %s to %s: %v %v", c.JID, payload, to, res, err)
	}
	return res
}

func iqErr(t *testing.T, c *xmpptest.Client, to, payload, cond string) {
	t.Helper()
	res, err := c.IQ(wait, "set", to, payload)
	if err != nil || xmpptest.StanzaErrorCondition(res) != cond {
		t.Fatalf("%s: %s: want %s, got %v %v", c.JID, payload, cond, res, err)
	}
}

func activate(sid, target string) string {
	return "<query xmlns='" + proxy65.NS + "' sid='" + sid + "'><activate>" + target + "</activate></query>"
}

// TestBytestreamOverTCP: alice finds the proxy (disco) and its address,
// offers bob a bytestream through it (XEP-0065 §6), both connect over
// SOCKS5, carol cannot activate alice's stream, alice does, and bytes go
// both ways through the proxy intact; a wrong SID, a second activation
// and a stream over alice's limit are refused with the XEP's errors.
func TestBytestreamOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.Listen.Proxy65 = "127.0.0.1:0"
		c.Proxy65.MaxStreamsPerUser = 1
	})
	c := srv.OnlineUsers(t, password, "r", "alice", "bob", "carol")
	alice, bob, carol := c[0], c[1], c[2]

	items := iqOK(t, alice, "get", "localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>")
	if !strings.Contains(items.String(), "jid='"+proxyJID+"'") {
		t.Fatalf("the domain's items do not list the proxy: %s", items)
	}
	info := iqOK(t, alice, "get", proxyJID, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
	if s := info.String(); !strings.Contains(s, "category='proxy'") || !strings.Contains(s, "type='bytestreams'") ||
		!strings.Contains(s, "var='"+proxy65.NS+"'") {
		t.Fatalf("proxy disco#info: %s", s)
	}
	res := iqOK(t, alice, "get", proxyJID, "<query xmlns='"+proxy65.NS+"'/>")
	sh := res.Child("query", proxy65.NS).Child("streamhost", proxy65.NS)
	addr := srv.Addr("proxy65").(*net.TCPAddr)
	if sh == nil || sh.Get("jid") != proxyJID || sh.Get("host") != "127.0.0.1" || sh.Get("port") != strconv.Itoa(addr.Port) {
		t.Fatalf("streamhost %v, want %s at 127.0.0.1:%d", res, proxyJID, addr.Port)
	}
	proxyAddr := net.JoinHostPort(sh.Get("host"), sh.Get("port"))

	// alice offers the stream; bob connects through the proxy and says so.
	const sid = "vxf9n471bn46"
	hash := proxy65.StreamHash(sid, jid.MustParse(alice.JID), jid.MustParse(bob.JID))
	send := func(c *xmpptest.Client, raw string) {
		t.Helper()
		if err := c.Send(raw); err != nil {
			t.Fatal(err)
		}
	}
	send(alice, "<iq type='set' id='offer' to='"+bob.JID+"'><query xmlns='"+proxy65.NS+"' sid='"+sid+"' mode='tcp'>"+
		"<streamhost jid='"+proxyJID+"' host='"+sh.Get("host")+"' port='"+sh.Get("port")+"'/></query></iq>")
	offer, err := bob.Expect(wait, xmpptest.Stanza("iq", "set", alice.JID))
	if err != nil {
		t.Fatal(err)
	}
	bobConn := socks5(t, proxyAddr, hash)
	send(bob, "<iq type='result' id='"+offer.Get("id")+"' to='"+alice.JID+"'><query xmlns='"+proxy65.NS+"'>"+
		"<streamhost-used jid='"+proxyJID+"'/></query></iq>")
	if _, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("id") == "offer" && el.Get("type") == "result" }); err != nil {
		t.Fatal(err)
	}
	iqErr(t, alice, proxyJID, activate(sid, bob.JID), "not-allowed") // only bob is connected
	aliceConn := socks5(t, proxyAddr, hash)

	iqErr(t, carol, proxyJID, activate(sid, bob.JID), "item-not-found") // not the initiator
	iqErr(t, alice, proxyJID, activate("other-sid", bob.JID), "item-not-found")
	iqOK(t, alice, "set", proxyJID, activate(sid, bob.JID))
	iqErr(t, alice, proxyJID, activate(sid, bob.JID), "not-acceptable") // already active

	file := make([]byte, 300<<10)
	rand.Read(file)
	go func() {
		aliceConn.Write(file)
		aliceConn.(*net.TCPConn).CloseWrite()
	}()
	got := make([]byte, len(file))
	bobConn.SetReadDeadline(time.Now().Add(wait))
	if _, err := io.ReadFull(bobConn, got); err != nil || !bytes.Equal(got, file) {
		t.Fatalf("bob read %v; equal %v", err, bytes.Equal(got, file))
	}
	reply := []byte("received " + hex.EncodeToString(file[:8]))
	if _, err := bobConn.Write(reply); err != nil {
		t.Fatal(err)
	}
	aliceConn.SetReadDeadline(time.Now().Add(wait))
	back := make([]byte, len(reply))
	if _, err := io.ReadFull(aliceConn, back); err != nil || !bytes.Equal(back, reply) {
		t.Fatalf("alice read %q, %v", back, err)
	}

	// A second stream while the first is active: over alice's limit of 1.
	hash2 := proxy65.StreamHash("second", jid.MustParse(alice.JID), jid.MustParse(bob.JID))
	socks5(t, proxyAddr, hash2)
	socks5(t, proxyAddr, hash2)
	iqErr(t, alice, proxyJID, activate("second", bob.JID), "resource-constraint")
	// Once the first ends, it may go.
	aliceConn.Close()
	bobConn.Close()
	xmpptest.Eventually(t, wait, func() error {
		res, err := alice.IQ(wait, "set", proxyJID, activate("second", bob.JID))
		if err != nil || res.Get("type") != "result" {
			return fmt.Errorf("second stream: %v %v", res, err)
		}
		return nil
	})
}
