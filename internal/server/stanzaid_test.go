package server_test

import (
	"testing"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// stanzaIDs returns the ids of el's XEP-0359 stanza-ids, by their 'by'.
func stanzaIDs(el *xmlstream.Element) map[string][]string {
	out := map[string][]string{}
	for _, c := range el.Children {
		if c.Name == "stanza-id" && c.Space == "urn:xmpp:sid:0" {
			out[c.Get("by")] = append(out[c.Get("by")], c.Get("id"))
		}
	}
	return out
}

// TestForgedStanzaIDInOtherCase (issue 10 item 12): a stanza-id claiming
// to be by the recipient, or by the sender for the sender's archive copy,
// is removed however the address is cased, so the only id by the account
// is the server's, and it is the archive's id.
func TestForgedStanzaIDInOtherCase(t *testing.T) {
	srv := newServer(t, nil)
	alice := online(t, srv, "alice", "desk")
	bob := online(t, srv, "bob", "phone")
	send(t, alice, "<message to='bob@localhost' type='chat' id='f1'><body>forged ids</body>"+
		"<stanza-id xmlns='urn:xmpp:sid:0' id='forged-bob' by='BOB@localhost'/>"+
		"<stanza-id xmlns='urn:xmpp:sid:0' id='forged-alice' by='Alice@LOCALHOST'/></message>")
	msg := expect(t, bob, "the message", xmpptest.MessageBody("forged ids"))
	ids := stanzaIDs(msg)
	if len(ids["BOB@localhost"]) != 0 || len(ids["bob@localhost"]) != 1 {
		t.Fatalf("bob got stanza ids %v, want only the server's", ids)
	}
	// Each copy must have lost the id forged in its owner's name.
	forgedAs := map[string]string{"bob@localhost": "BOB@localhost", "alice@localhost": "Alice@LOCALHOST"}
	for who, c := range map[string]*xmpptest.Client{"bob@localhost": bob, "alice@localhost": alice} {
		a := xmpptest.MustQueryArchive(t, c, wait, "", "")
		if len(a.Results) != 1 {
			t.Fatalf("%s's archive holds %d messages, want the one", who, len(a.Results))
		}
		got := stanzaIDs(a.Results[0].Message)
		if list := got[forgedAs[who]]; len(list) != 0 {
			t.Errorf("%s's archived copy keeps the id forged by %s: %v", who, forgedAs[who], list)
		}
		if len(got[who]) != 1 || got[who][0] != a.Results[0].ID {
			t.Errorf("%s's archived copy has stanza ids %v, want one equal to the archive id", who, got)
		}
	}
}
