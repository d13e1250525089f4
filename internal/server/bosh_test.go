package server_test

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// boshClient speaks XEP-0124/XEP-0206 with one request at a time.
type boshClient struct {
	t    *testing.T
	http *http.Client
	url  string
	sid  string
	rid  int64
}

// post sends one <body/> with attrs and payload at rid and returns the
// HTTP status and the parsed response body.
func (c *boshClient) post(rid int64, attrs, payload string) (int, *xmlstream.Element) {
	c.t.Helper()
	if c.sid != "" {
		attrs += " sid='" + c.sid + "'"
	}
	req := "<body xmlns='http://jabber.org/protocol/httpbind' rid='" + strconv.FormatInt(rid, 10) + "'" + attrs + ">" + payload + "</body>"
	hc := c.http
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Post(c.url, "text/xml; charset=utf-8", strings.NewReader(req))
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	el, err := xmlstream.Parse(b, xmlstream.DefaultLimits())
	if err != nil {
		c.t.Fatalf("response %q: %v", b, err)
	}
	return res.StatusCode, el
}

// next sends payload at the next rid and returns the response.
func (c *boshClient) next(attrs, payload string) *xmlstream.Element {
	c.t.Helper()
	c.rid++
	status, el := c.post(c.rid, attrs, payload)
	if status != 200 || el.Get("type") == "terminate" {
		c.t.Fatalf("rid %d: %d %s", c.rid, status, el)
	}
	return el
}

// exchange sends payload (with attrs) at the next rid, then polls until a
// response holds an element that match accepts.
func (c *boshClient) exchange(attrs, payload, what string, match func(*xmlstream.Element) bool) *xmlstream.Element {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for resp := c.next(attrs, payload); ; resp = c.next("", "") {
		for _, ch := range resp.Children {
			if match(ch) {
				return ch
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %s within 10s", what)
		}
	}
}

func named(name string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool { return el.Name == name }
}

// TestBOSH: a BOSH client (XEP-0206) opens a session over HTTPS,
// authenticates with SASL PLAIN, restarts the stream, binds, and chats with a TCP client;
// a lost response is sent again for the same rid; a terminate ends the
// session, after which its sid is unknown.
func TestBOSH(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.Listen.HTTPS = "127.0.0.1:0" })
	bob := online(t, srv, "bob", "tcp")
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed
	c := &boshClient{t: t, http: insecure, url: "https://" + srv.HTTPS() + "/http-bind", rid: 1000}

	status, created := c.post(c.rid, " to='localhost' xml:lang='en' wait='2' hold='1' ver='1.6' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'", "")
	if status != 200 || created.Get("sid") == "" || created.Get("authid") == "" || created.Get("from") != "localhost" ||
		created.Get("wait") != "2" || created.Get("requests") != "2" || created.Get("hold") != "1" {
		t.Fatalf("creation: %d %s", status, created)
	}
	c.sid = created.Get("sid")
	if f := created.Child("features", "http://etherx.jabber.org/streams"); f == nil || !strings.Contains(f.String(), "PLAIN") {
		t.Fatalf("no PLAIN in the creation response: %s", created)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + password))
	c.exchange("", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"+auth+"</auth>", "SASL success", named("success"))
	c.exchange(" to='localhost' xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'", "", "features after the restart", named("features"))
	bound := c.exchange("", "<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>web</resource></bind></iq>",
		"the bind result", named("iq"))
	if !strings.Contains(bound.String(), "alice@localhost/web") {
		t.Fatalf("bind: %s", bound)
	}
	// A client that leaves out xmlns='jabber:client' is understood too.
	c.next("", "<presence/><message to='bob@localhost/tcp' type='chat'><body>from bosh</body></message>")
	if el := expect(t, bob, "the BOSH client's message", xmpptest.MessageBody("from bosh")); el.Get("from") != "alice@localhost/web" {
		t.Errorf("from = %q", el.Get("from"))
	}
	send(t, bob, "<message to='alice@localhost/web' type='chat'><body>from tcp</body></message>")
	got := c.exchange("", "", "the TCP client's message", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.ChildText("body", "") == "from tcp"
	})
	if got.Space != "jabber:client" {
		t.Errorf("message in namespace %q", got.Space)
	}

	// The last response again for its rid (XEP-0124 §14.3); a rid beyond
	// the window, or an unknown sid, ends with item-not-found.
	_, again := c.post(c.rid, "", "")
	if again.Get("type") == "terminate" {
		t.Fatalf("retransmission: %s", again)
	}
	if status, el := c.post(c.rid+5, "", ""); status != 404 || el.Get("condition") != "item-not-found" {
		t.Errorf("rid out of window: %d %s", status, el)
	}
	other := &boshClient{t: t, http: insecure, url: c.url, sid: "nosuchsid"}
	if status, el := other.post(1, "", ""); status != 404 || el.Get("condition") != "item-not-found" {
		t.Errorf("unknown sid: %d %s", status, el)
	}

	c.rid++
	if _, el := c.post(c.rid, " type='terminate'", "<presence type='unavailable' xmlns='jabber:client'/>"); el.Get("type") != "terminate" {
		t.Fatalf("terminate answered %s", el)
	}
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if status, el := c.post(c.rid+1, "", ""); status != 404 {
			return fmt.Errorf("after terminate: %d %s", status, el)
		}
		return nil
	})
}

// Without allow_plaintext a BOSH session over plain HTTP must not
// authenticate, as for WebSocket.
func TestBOSHPlaintextRefused(t *testing.T) {
	srv := newServer(t, nil)
	c := &boshClient{t: t, url: "http://" + srv.HTTP() + "/http-bind", rid: 1}
	_, created := c.post(c.rid, " to='localhost' wait='2' hold='1' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'", "")
	c.sid = created.Get("sid")
	auth := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + password))
	c.exchange("", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"+auth+"</auth>", "SASL failure",
		func(el *xmlstream.Element) bool {
			return el.Name == "failure" && strings.Contains(el.String(), "encryption-required")
		})
}
