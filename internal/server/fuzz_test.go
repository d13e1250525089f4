package server_test

import (
	"context"
	"testing"

	"parley/internal/config"
	"parley/internal/im/imtest"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest/testserver"
)

// FuzzStanza routes arbitrary stanzas from a bound client through every
// module the server wires (roster, presence, MUC, MAM, PEP, ...): whatever
// a client sends, no handler may panic. The seeds in
// testdata/fuzz/FuzzStanza run in `make test`.
func FuzzStanza(f *testing.F) {
	for _, s := range []string{
		`<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`,
		`<iq type='set' id='2'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='B'><group>g</group></item></query></iq>`,
		`<presence to='bob@localhost' type='subscribe'/>`,
		`<presence><priority>5</priority><status>hi</status></presence>`,
		`<message to='bob@localhost' type='chat'><body>hello</body><request xmlns='urn:xmpp:receipts'/></message>`,
		`<iq type='get' id='3' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
		`<iq type='set' id='4'><vCard xmlns='vcard-temp'><FN>A</FN></vCard></iq>`,
		`<iq type='set' id='5'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
		`<iq type='set' id='6'><block xmlns='urn:xmpp:blocking'><item jid='spam@example.com'/></block></iq>`,
		`<iq type='set' id='7'><enable xmlns='urn:xmpp:carbons:2'/></iq>`,
		`<iq type='set' id='8'><query xmlns='urn:xmpp:mam:2' queryid='q'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field><field var='start'><value>2020-01-01T00:00:00Z</value></field></x><set xmlns='http://jabber.org/protocol/rsm'><max>5</max></set></query></iq>`,
		`<iq type='set' id='9'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item id='room@conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1' autojoin='true'/></item></publish></pubsub></iq>`,
		`<presence to='room@conference.localhost/alice'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='5'/></x></presence>`,
		`<iq type='set' id='10' to='room@conference.localhost'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
		`<message to='room@conference.localhost' type='groupchat'><body>hi all</body></message>`,
		`<iq type='get' id='11' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
		`<iq type='set' id='12'><query xmlns='jabber:iq:register'><remove/></query></iq>`,
	} {
		f.Add([]byte(s))
	}
	srv := testserver.Quiet(f, func(c *config.Config) {
		c.Listen = config.Listen{C2S: "127.0.0.1:0", C2STLS: config.Off, HTTP: config.Off}
	})
	srv.AddUser(f, "alice", "pw")
	srv.AddUser(f, "bob", "pw")
	r := srv.Router()
	alice := imtest.NewSession(f, "alice@localhost/fuzz")
	bob := imtest.NewSession(f, "bob@localhost/fuzz")
	alice.Discard(true)
	bob.Discard(true)
	r.Bind(bob)
	r.Bind(alice)
	scope := xmlstream.NewScope(stanza.NSClient)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.ParseIn(append([]byte(nil), b...), xmlstream.Limits{}, scope)
		if err != nil {
			return
		}
		st, err := stanza.Parse(el)
		if err != nil {
			return
		}
		if st.Kind == stanza.IQ && st.Type == "set" && st.Payload() != nil && st.Payload().Space == "jabber:iq:register" {
			return // account removal would end the fuzzing session's account
		}
		st.SetFrom(alice.JID())
		r.Route(ctx, st)
	})
}
