// Package compliance holds the tests of docs/COMPLIANCE.md's table for
// the XMPP Compliance Suites 2023 (XEP-0479, server side, Advanced) that
// no feature package owns: what a compliance tester discovers from a
// client's seat, and the rows where the server's part is to pass a
// client's payload through untouched. Each test runs a real server over
// real connections.
package compliance

import (
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait     = 10 * time.Second
	password = "suite pass 1"
)

func start(t *testing.T, users ...string) *testserver.Server {
	t.Helper()
	srv := testserver.Start(t, func(c *config.Config) {
		c.Listen.HTTPS = "127.0.0.1:0"
		c.Listen.Proxy65 = "127.0.0.1:0"
		c.ExternalServices = []config.ExternalService{{Type: "stun", Host: "stun.localhost", Port: 3478}}
	})
	srv.AddUsers(t, password, users...)
	return srv
}

func query(t *testing.T, c *xmpptest.Client, to, payload string) *xmlstream.Element {
	t.Helper()
	res, err := c.IQ(wait, "get", to, payload)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("get %s from %q: %v %s", payload, to, err, res)
	}
	return res.FirstChild()
}

// features lists the disco#info features of an answer.
func features(q *xmlstream.Element) map[string]bool {
	out := map[string]bool{}
	for _, f := range q.Children {
		if f.Name == "feature" {
			out[f.Get("var")] = true
		}
	}
	return out
}

// TestAdvertisedOverTCP discovers, as a client and as the compliance
// testers do, what each row of the suites needs the server to
// advertise: stream features (XEP-0198, XEP-0352, XEP-0115 caps), the
// domain's features (XEP-0030, XEP-0191, XEP-0280, XEP-0012, XEP-0202, XEP-0199, XEP-0054, XEP-0215, XEP-0050, XEP-0377), the
// account's (XEP-0163 PEP, XEP-0313, XEP-0357, XEP-0402 compat), and the
// domain's items: the group chat, upload, pubsub and proxy services
// with their identities and features.
func TestAdvertisedOverTCP(t *testing.T) {
	srv := start(t, "alice")
	c, err := xmpptest.Dial(t.Context(), srv.C2S(), xmpptest.Options{User: "alice", Password: password, Resource: "phone", NoBind: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sf := c.Features.String()
	for _, want := range []string{"urn:xmpp:sm:3", "urn:xmpp:csi:0", "http://jabber.org/protocol/caps"} {
		if !strings.Contains(sf, want) {
			t.Errorf("stream features lack %s: %s", want, sf)
		}
	}
	alice := srv.Online(t, "alice", password, "desk")

	domain := features(query(t, alice, "localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`))
	for _, want := range []string{"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
		"urn:xmpp:blocking", "urn:xmpp:carbons:2", "jabber:iq:last", "urn:xmpp:time", "urn:xmpp:ping",
		"vcard-temp", "urn:xmpp:extdisco:2", "http://jabber.org/protocol/commands", "urn:xmpp:reporting:1",
		"msgoffline"} {
		if !domain[want] {
			t.Errorf("the domain does not advertise %s", want)
		}
	}
	account := query(t, alice, "alice@localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	acc := features(account)
	for _, want := range []string{"http://jabber.org/protocol/pubsub#publish", "http://jabber.org/protocol/pubsub#publish-options",
		"urn:xmpp:mam:2", "urn:xmpp:push:0", "urn:xmpp:bookmarks:1#compat"} {
		if !acc[want] {
			t.Errorf("the account does not advertise %s: %s", want, account)
		}
	}
	if !strings.Contains(account.String(), "category='pubsub' type='pep'") {
		t.Errorf("the account is not a PEP service: %s", account)
	}

	items := query(t, alice, "localhost", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)
	want := map[string]struct{ identity, feature string }{
		"conference.localhost": {"category='conference' type='text'", "http://jabber.org/protocol/muc"},
		"upload.localhost":     {"category='store' type='file'", "urn:xmpp:http:upload:0"},
		"pubsub.localhost":     {"category='pubsub' type='service'", "http://jabber.org/protocol/pubsub"},
		"proxy.localhost":      {"category='proxy' type='bytestreams'", "http://jabber.org/protocol/bytestreams"},
	}
	for _, it := range items.Children {
		w, ok := want[it.Get("jid")]
		if !ok {
			continue
		}
		delete(want, it.Get("jid"))
		info := query(t, alice, it.Get("jid"), `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
		if !strings.Contains(info.String(), w.identity) || !features(info)[w.feature] {
			t.Errorf("%s: want %s and %s: %s", it.Get("jid"), w.identity, w.feature, info)
		}
	}
	for jid := range want {
		t.Errorf("the domain's items lack %s: %s", jid, items)
	}
}

// TestPassThroughOverTCP: the rows whose server part is to carry a
// client's payload untouched between two clients: XEP-0249 direct
// invitations, XEP-0085 chat states, XEP-0184 receipts, XEP-0308
// corrections, XEP-0245 /me (a body), XEP-0066 out-of-band URLs of
// uploads; each arrives as sent.
func TestPassThroughOverTCP(t *testing.T) {
	srv := start(t, "alice", "bob")
	alice := srv.Online(t, "alice", password, "desk")
	bob := srv.Online(t, "bob", password, "phone")
	for i, payload := range []string{
		`<x xmlns='jabber:x:conference' jid='coven@conference.localhost' password='cauldronburn' reason='Hey Hecate, this is the place for all good witches!'/>`,
		`<composing xmlns='http://jabber.org/protocol/chatstates'/>`,
		`<body>/me shrugs</body><active xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/>`,
		`<body>Hello, world!</body><replace id='m2' xmlns='urn:xmpp:message-correct:0'/>`,
		`<received xmlns='urn:xmpp:receipts' id='m3'/>`,
		`<body>https://upload.localhost/a.png</body><x xmlns='jabber:x:oob'><url>https://upload.localhost/a.png</url></x>`,
	} {
		id := "pt" + string(rune('a'+i))
		if err := alice.Send(`<message to='bob@localhost/phone' type='chat' id='` + id + `'>` + payload + `</message>`); err != nil {
			t.Fatal(err)
		}
		got, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "message" && el.Get("id") == id })
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		want, err := xmlstream.Parse([]byte(`<message xmlns='jabber:client'>`+payload+`</message>`), xmlstream.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Get("from") != "alice@localhost/desk" {
			t.Errorf("%d: from %q", i, got.Get("from"))
		}
		for _, w := range want.Children {
			g := got.Child(w.Name, w.Space)
			if g == nil || g.String() != w.String() {
				t.Errorf("%d: %s arrived as %s", i, w, got)
			}
		}
	}
}
