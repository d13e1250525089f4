package pubsub

import (
	"testing"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// FuzzRequest feeds arbitrary elements to what the services read of a
// request: a node_config or publish-options form (which, once accepted,
// must survive its own form: Form then Apply gives the same
// configuration), a subscribe with its options (which may only ever
// subscribe the requester's own JID) and an unsubscribe. Seeds are in
// testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	f.Add([]byte(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>` +
		`<field var='pubsub#access_model'><value>roster</value></field><field var='pubsub#roster_groups_allowed'><value>A</value><value>B</value></field></x>`))
	f.Add([]byte(`<subscribe xmlns='http://jabber.org/protocol/pubsub' node='n' jid='romeo@example.com/orchard'/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.ParseIn(b, xmlstream.Limits{MaxStanza: 1 << 16, MaxDepth: 8}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			return
		}
		c := defaultConfig()
		if c.Apply(el, NSNodeConfig, 1000) == nil {
			var back Config
			if err := back.Apply(c.Form("submit"), NSNodeConfig, 1000); err != nil || !back.Equal(c) {
				t.Fatalf("the form of %+v gives %+v, %v", c, back, err)
			}
		}
		from := jid.MustParse("romeo@example.com/orchard")
		if rq, err := ParseSubscribe(from, el, el.Child("options", NS)); err == nil && rq.Who.Bare() != from.Bare() {
			t.Fatalf("subscribes %s for %s", rq.Who, from)
		}
		_, _ = ParseUnsubscribe(el)
	})
}
