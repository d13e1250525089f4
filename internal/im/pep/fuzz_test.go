package pep

import (
	"slices"
	"testing"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// FuzzVerString feeds arbitrary disco#info answers (what a client sends
// back to the server's caps query) to the XEP-0115 hash: it must not
// panic, and since §5.1 sorts everything it hashes, the order of the
// answer's children must not change the result.
func FuzzVerString(f *testing.F) {
	q, _ := caps("http://jabber.org/protocol/disco#info", devices, devices+"+notify")
	f.Add([]byte(q))
	f.Add([]byte(`<query xmlns='http://jabber.org/protocol/disco#info'>` +
		`<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>` +
		`<identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>` +
		`<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/muc'/>` +
		`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>` +
		`<field var='ip_version'><value>ipv6</value><value>ipv4</value></field><field var='os'><value>Mac</value></field></x></query>`))
	f.Add([]byte(`<query xmlns='http://jabber.org/protocol/disco#info'><feature var='a'/><feature var='a'/></query>`))
	f.Add([]byte(`<query xmlns='http://jabber.org/protocol/disco#info'><x xmlns='jabber:x:data'>` +
		`<field var='FORM_TYPE' type='hidden'><value>a</value><value>b</value></field></x></query>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.ParseIn(b, xmlstream.Limits{MaxStanza: 1 << 16, MaxDepth: 8}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			return
		}
		ver, ok := verString("sha-1", el)
		again, okAgain := verString("sha-1", el)
		if ver != again || ok != okAgain {
			t.Fatalf("not deterministic: %q %v, then %q %v", ver, ok, again, okAgain)
		}
		shuffled := *el
		shuffled.Children = slices.Clone(el.Children)
		slices.Reverse(shuffled.Children)
		if v, k := verString("sha-1", &shuffled); v != ver || k != ok {
			t.Fatalf("child order changed the ver: %q %v, reversed %q %v\n%s", ver, ok, v, k, b)
		}
	})
}
