package private_test

import (
	"strings"
	"testing"
	"time"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// call sends c's IQ to its own account and returns the result, failing
// the test on any other answer.
func call(t *testing.T, c *xmpptest.Client, typ, payload string) *xmlstream.Element {
	t.Helper()
	return xmpptest.MustResult(t, c, 10*time.Second, typ, "", payload)
}

// TestBookmarksCompatOverTCP: XEP-0402 §5.3 unification of XEP-0048
// bookmarks in private XML (XEP-0049) with XEP-0402 bookmarks in PEP.
// A legacy client's storage becomes one PEP item per room; a room a
// XEP-0402 client adds appears in the legacy client's storage (URL
// bookmarks kept); a room removed from the storage is retracted, with
// a notification, and unchanged rooms are not notified again.
func TestBookmarksCompatOverTCP(t *testing.T) {
	const pass = "private pass 2"
	srv := testserver.Start(t, nil)
	legacy := srv.OnlineUsers(t, pass, "legacy", "juliet")[0]
	modern := srv.Online(t, "juliet", pass, "modern")
	if info := call(t, modern, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`).String(); !strings.Contains(info, "urn:xmpp:bookmarks:1#compat") {
		t.Fatalf("compat not advertised: %s", info)
	}

	// XEP-0048 §3.2's storage, set by the legacy client.
	storage := func(rooms ...string) string {
		return `<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>` + strings.Join(rooms, "") +
			`<url name='Complete Works of Shakespeare' url='http://the-tech.mit.edu/Shakespeare/'/></storage></query>`
	}
	council := `<conference name='Council of Oberon' autojoin='true' jid='council@conference.underhill.org'><nick>Puck</nick><password>titania</password></conference>`
	theplay := `<conference name='The Play' jid='theplay@conference.shakespeare.lit'><nick>JC</nick></conference>`
	call(t, legacy, "set", storage(council, theplay))

	items := call(t, modern, "get", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub>`)
	s := items.String()
	if !strings.Contains(s, "<item id='council@conference.underhill.org'><conference xmlns='urn:xmpp:bookmarks:1' name='Council of Oberon' autojoin='true'><nick>Puck</nick><password>titania</password></conference></item>") ||
		!strings.Contains(s, "<item id='theplay@conference.shakespeare.lit'>") {
		t.Fatalf("PEP items from private XML: %s", s)
	}
	// The modern client follows the node by subscribing (XEP-0060 §6.1).
	call(t, modern, "set", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='urn:xmpp:bookmarks:1' jid='juliet@localhost/modern'/></pubsub>`)
	if _, err := modern.Expect(10*time.Second, func(el *xmlstream.Element) bool { return strings.Contains(el.String(), "pubsub#event") }); err != nil {
		t.Fatalf("last item on subscribing: %v", err)
	}

	// A room added in PEP shows in the legacy client's storage.
	call(t, modern, "set", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item id='orchard@conference.shakespeare.lit'>`+
		`<conference xmlns='urn:xmpp:bookmarks:1' name='The Orchard' autojoin='true'><nick>Juliet</nick></conference></item></publish></pubsub>`)
	got := call(t, legacy, "get", `<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>`).String()
	for _, want := range []string{"jid='orchard@conference.shakespeare.lit'", "name='The Orchard'", "jid='council@conference.underhill.org'",
		"<nick>Puck</nick>", "url='http://the-tech.mit.edu/Shakespeare/'"} {
		if !strings.Contains(got, want) {
			t.Fatalf("private storage lacks %s: %s", want, got)
		}
	}
	if _, err := modern.Expect(10*time.Second, func(el *xmlstream.Element) bool { return strings.Contains(el.String(), "The Orchard") }); err != nil {
		t.Fatalf("own publish notified: %v", err)
	}

	// The legacy client drops a room and keeps the others unchanged:
	// one retraction, no event for the unchanged rooms.
	call(t, legacy, "set", storage(council, `<conference name='The Orchard' autojoin='true' jid='orchard@conference.shakespeare.lit'><nick>Juliet</nick></conference>`))
	if _, err := modern.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return strings.Contains(el.String(), "<retract id='theplay@conference.shakespeare.lit'/>")
	}); err != nil {
		t.Fatalf("retraction: %v", err)
	}
	call(t, modern, "get", `<ping xmlns='urn:xmpp:ping'/>`)
	if ev, err := modern.Expect(100*time.Millisecond, func(el *xmlstream.Element) bool { return strings.Contains(el.String(), "pubsub#event") }); err == nil {
		t.Fatalf("an unchanged room was notified: %s", ev)
	}
	if s := call(t, modern, "get", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub>`).String(); strings.Contains(s, "theplay") {
		t.Fatalf("the dropped room is still in PEP: %s", s)
	}
}

// TestLegacyBookmarksConversionOverTCP: XEP-0411. Private XML bookmarks
// are published as item "current" of the PEP node storage:bookmarks, its
// subscribers notified (§3); a client's publish there is the private XML
// seen by legacy clients (and reaches XEP-0402's items); a node others
// may read is never written from private XML (§5).
func TestLegacyBookmarksConversionOverTCP(t *testing.T) {
	const pass = "private pass 3"
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, pass, "romeo", "mercutio")
	legacy := srv.Online(t, "romeo", pass, "legacy")
	pepClient := srv.Online(t, "romeo", pass, "pep")
	if info := call(t, pepClient, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`).String(); !strings.Contains(info, "urn:xmpp:bookmarks-conversion:0") {
		t.Fatalf("conversion not advertised: %s", info)
	}
	set := func(c *xmpptest.Client, rooms string) {
		t.Helper()
		call(t, c, "set", `<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>`+rooms+`</storage></query>`)
	}
	set(legacy, `<conference jid='verona@conference.montague.tld' autojoin='true'><nick>Romeo</nick></conference>`)
	items := call(t, pepClient, "get", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='storage:bookmarks'/></pubsub>`).String()
	if !strings.Contains(items, "<item id='current'><storage xmlns='storage:bookmarks'><conference jid='verona@conference.montague.tld'") {
		t.Fatalf("PEP storage:bookmarks: %s", items)
	}
	conf := call(t, pepClient, "get", `<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='storage:bookmarks'/></pubsub>`).String()
	if !strings.Contains(conf, "<value>whitelist</value>") {
		t.Fatalf("the copied node is not private: %s", conf)
	}
	call(t, pepClient, "set", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='storage:bookmarks' jid='romeo@localhost/pep'/></pubsub>`)
	set(legacy, `<conference jid='mantua@conference.montague.tld'><nick>Romeo</nick></conference>`)
	if _, err := pepClient.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return strings.Contains(el.String(), "pubsub#event") && strings.Contains(el.String(), "mantua@")
	}); err != nil {
		t.Fatalf("a legacy change not notified: %v", err)
	}

	// The PEP client publishes; the legacy client reads it.
	call(t, pepClient, "set", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='storage:bookmarks'><item id='current'><storage xmlns='storage:bookmarks'>`+
		`<conference jid='capulet@conference.verona.tld' name='Feast' autojoin='true'><nick>Romeo</nick></conference></storage></item></publish></pubsub>`)
	got := call(t, legacy, "get", `<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>`).String()
	if !strings.Contains(got, "jid='capulet@conference.verona.tld'") || strings.Contains(got, "mantua@") {
		t.Fatalf("private XML after a PEP publish: %s", got)
	}
	if s := call(t, pepClient, "get", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub>`).String(); !strings.Contains(s, "<item id='capulet@conference.verona.tld'>") || strings.Contains(s, "mantua@") {
		t.Fatalf("XEP-0402 items after a PEP publish: %s", s)
	}

	// §5: a node others may read is left alone.
	merc := srv.Online(t, "mercutio", pass, "x")
	call(t, merc, "set", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='storage:bookmarks'><item id='current'><storage xmlns='storage:bookmarks'/></item></publish>`+
		`<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`+
		`<field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub>`)
	call(t, merc, "set", `<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='secret@conference.verona.tld'/></storage></query>`)
	if s := call(t, merc, "get", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='storage:bookmarks'/></pubsub>`).String(); strings.Contains(s, "secret@") {
		t.Fatalf("bookmarks copied to an open node: %s", s)
	}
}
