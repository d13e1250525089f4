package pep_test

import (
	"strings"
	"testing"
	"time"

	"parley/internal/im/pep"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestProfilesOverTCP: the PEP profiles clients use, with their XEPs'
// examples: XEP-0084 user avatar (data and metadata nodes; a contact
// asking for metadata notifications gets them and fetches the data by
// id, never notified of the data itself, §4.1-4.3, §5), XEP-0172 user
// nickname (§4.2) and XEP-0292 vCard4 (§3.1, node urn:xmpp:vcard4).
func TestProfilesOverTCP(t *testing.T) {
	const (
		data, metadata = "urn:xmpp:avatar:data", "urn:xmpp:avatar:metadata"
		nick, vcard4   = "http://jabber.org/protocol/nick", "urn:xmpp:vcard4"
		avatarID       = "111f4b3c50d7b0df729d299bc6f8e9ef9066971f"
	)
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "juliet", "romeo")
	befriend(t, srv, "juliet", "romeo")
	juliet := login(t, srv, "juliet", "chamber")
	romeo := loginWithCaps(t, srv, "romeo", "orchard", "http://jabber.org/protocol/disco#info",
		metadata+"+notify", nick+"+notify", vcard4+"+notify")
	// A round trip after the caps answer, so that they are learned
	// before the publishes below (else they come as last items).
	xmpptest.MustIQ(t, romeo, wait, "get", "", `<ping xmlns='urn:xmpp:ping'/>`)
	publish := func(node, id, payload string) {
		t.Helper()
		if res := xmpptest.MustIQ(t, juliet, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+node+`'><item id='`+id+`'>`+payload+`</item></publish></pubsub>`); res.Get("type") != "result" {
			t.Fatalf("publish to %s: %s", node, res)
		}
	}
	event := func(node, want string) *xmlstream.Element {
		t.Helper()
		ev, err := romeo.Expect(wait, func(el *xmlstream.Element) bool {
			return isEvent(el) && strings.Contains(el.String(), "node='"+node+"'") && strings.Contains(el.String(), want)
		})
		if err != nil {
			t.Fatalf("no %s event with %q: %v", node, want, err)
		}
		return ev
	}

	// XEP-0084 §4.1 data, §4.2 metadata.
	publish(data, avatarID, `<data xmlns='`+data+`'>qANQR1DBwU4DX7jmYZnncm</data>`)
	publish(metadata, avatarID, `<metadata xmlns='`+metadata+`'><info bytes='12345' height='64' id='`+avatarID+`' type='image/png' width='64'/></metadata>`)
	event(metadata, "id='"+avatarID+"'")
	// §4.3: the contact fetches the data by id.
	res := xmpptest.MustIQ(t, romeo, wait, "get", "juliet@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='`+data+`'><item id='`+avatarID+`'/></items></pubsub>`)
	if !strings.Contains(res.String(), "qANQR1DBwU4DX7jmYZnncm") {
		t.Fatalf("avatar data: %s", res)
	}
	// XEP-0172 §4.2.
	publish(nick, "current", `<nick xmlns='`+nick+`'>Juliet Capulet</nick>`)
	event(nick, "Juliet Capulet")
	// XEP-0292 §3.1.
	publish(vcard4, "current", `<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Juliet Capulet</text></fn><nickname><text>Jules</text></nickname></vcard>`)
	event(vcard4, "<nickname><text>Jules</text></nickname>")
	// Nothing of the data node, which romeo did not ask for.
	xmpptest.MustIQ(t, romeo, wait, "get", "", `<ping xmlns='urn:xmpp:ping'/>`)
	if ev, err := romeo.Expect(100*time.Millisecond, func(el *xmlstream.Element) bool {
		return isEvent(el) && strings.Contains(el.String(), "node='"+data+"'")
	}); err == nil {
		t.Fatalf("a data notification: %s", ev)
	}
}
