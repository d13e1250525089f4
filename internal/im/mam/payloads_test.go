package mam_test

import (
	"slices"
	"strconv"
	"testing"

	"parley/internal/im/mam"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest/testserver"
)

// TestPayloadsOverTCP: receipts (XEP-0184), chat markers (XEP-0333),
// corrections (XEP-0308), retractions (XEP-0424) and reactions (XEP-0444)
// reach the recipient and the sender's other device (carbons) with their
// payload intact, and are archived or not as archivable says.
func TestPayloadsOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	desk, phone, bob := carbonsPair(t, srv)
	tests := []struct {
		payload  string // inside the message
		name, ns string // the payload element to find intact
		attr     string // an attribute of it that must survive
		archived bool
	}{
		{`<body>original</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>`, "markable", "urn:xmpp:chat-markers:0", "", true},
		{`<received xmlns='urn:xmpp:receipts' id='m0'/>`, "received", "urn:xmpp:receipts", "m0", false},
		{`<received xmlns='urn:xmpp:chat-markers:0' id='m0'/>`, "received", "urn:xmpp:chat-markers:0", "m0", false},
		{`<displayed xmlns='urn:xmpp:chat-markers:0' id='m0'/>`, "displayed", "urn:xmpp:chat-markers:0", "m0", true},
		{`<body>corrected</body><replace xmlns='urn:xmpp:message-correct:0' id='m0'/>`, "replace", "urn:xmpp:message-correct:0", "m0", true},
		{`<reactions xmlns='urn:xmpp:reactions:0' id='m0'><reaction>🐢</reaction></reactions><store xmlns='urn:xmpp:hints'/>`, "reactions", "urn:xmpp:reactions:0", "m0", true},
		{`<retract xmlns='urn:xmpp:message-retract:1' id='m0'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>This person attempted to retract a previous message.</body><store xmlns='urn:xmpp:hints'/>`, "retract", "urn:xmpp:message-retract:1", "m0", true},
	}
	intact := func(msg *xmlstream.Element, i int) bool {
		if msg == nil {
			return false
		}
		el := msg.Child(tests[i].name, tests[i].ns)
		return el != nil && (tests[i].attr == "" || el.Get("id") == tests[i].attr) && msg.Get("id") == "p"+strconv.Itoa(i)
	}
	var wantArchived []string
	for i, tc := range tests {
		id := "p" + strconv.Itoa(i)
		send(t, desk, `<message to='bob@localhost' type='chat' id='`+id+`'>`+tc.payload+`</message>`)
		expect(t, bob, "payload "+tc.name, func(el *xmlstream.Element) bool { return el.Name == "message" && intact(el, i) })
		expect(t, phone, "sent carbon with "+tc.name, func(el *xmlstream.Element) bool {
			s := el.Child("sent", nsCarbons)
			return s != nil && intact(s.Child("forwarded", mam.NSForward).Child("message", "jabber:client"), i)
		})
		// Back from bob to the desk: the phone gets a received carbon.
		send(t, bob, `<message to='`+desk.JID+`' type='chat' id='`+id+`'>`+tc.payload+`</message>`)
		expect(t, desk, "payload "+tc.name, func(el *xmlstream.Element) bool { return el.Name == "message" && intact(el, i) })
		expect(t, phone, "received carbon with "+tc.name, func(el *xmlstream.Element) bool {
			r := el.Child("received", nsCarbons)
			return r != nil && intact(r.Child("forwarded", mam.NSForward).Child("message", "jabber:client"), i)
		})
		if tc.archived {
			wantArchived = append(wantArchived, id, id)
		}
	}
	// The archive: each archived payload twice (sent and received), intact.
	send(t, desk, `<iq type='set' id='all'><query xmlns='urn:xmpp:mam:2' queryid='all'><set xmlns='http://jabber.org/protocol/rsm'><max>100</max></set></query></iq>`)
	var got []string
	for {
		el := expect(t, desk, "archive", func(el *xmlstream.Element) bool {
			return (el.Name == "iq" && el.Get("id") == "all") || el.Child("result", mam.NS) != nil
		})
		if el.Name == "iq" {
			break
		}
		msg := el.Child("result", mam.NS).Child("forwarded", mam.NSForward).Child("message", "jabber:client")
		i, _ := strconv.Atoi(msg.Get("id")[1:])
		if !intact(msg, i) {
			t.Errorf("archived %s lost its payload: %s", msg.Get("id"), msg)
		}
		got = append(got, msg.Get("id"))
	}
	if !slices.Equal(got, wantArchived) {
		t.Fatalf("archived %q, want %q", got, wantArchived)
	}
}
