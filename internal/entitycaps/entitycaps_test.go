package entitycaps

import (
	"slices"
	"strconv"
	"testing"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

func parseQuery(t *testing.T, raw string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.ParseIn([]byte(raw), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// TestVerString follows XEP-0115 §5: the examples of §5.2 and §5.3, and
// the ill-formed answers of §5.4.
func TestVerString(t *testing.T) {
	const (
		simple = `<query xmlns='http://jabber.org/protocol/disco#info'>` +
			`<identity category='client' name='Exodus 0.9.1' type='pc'/>` +
			`<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>` +
			`<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/></query>`
		complexForm = `<x xmlns='jabber:x:data' type='result'>` +
			`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>` +
			`<field var='ip_version'><value>ipv4</value><value>ipv6</value></field>` +
			`<field var='os'><value>Mac</value></field><field var='os_version'><value>10.5.1</value></field>` +
			`<field var='software'><value>Psi</value></field><field var='software_version'><value>0.11</value></field></x>`
		complexHead = `<query xmlns='http://jabber.org/protocol/disco#info'>` +
			`<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>` +
			`<identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>` +
			`<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>` +
			`<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/>`
	)
	tests := []struct {
		algo, query, ver string
		ok               bool
	}{
		0: {"sha-1", simple, "QgayPKawpkPSDYmwT/WM94uAlu0=", true},
		1: {"sha-1", complexHead + complexForm + `</query>`, "q07IKJEyjvHSyhy//CH0CxmKi8w=", true},
		// A form without a hidden FORM_TYPE is left out (§5.4 3.6).
		2: {"sha-1", simple[:len(simple)-len(`</query>`)] + `<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'><value>x</value></field></x></query>`,
			"QgayPKawpkPSDYmwT/WM94uAlu0=", true},
		// Duplicate feature, identity or form type: ill-formed (§5.4 3.3-3.5).
		3: {"sha-1", `<query xmlns='http://jabber.org/protocol/disco#info'><feature var='a'/><feature var='a'/></query>`, "", false},
		4: {"sha-1", `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc'/><identity category='client' type='pc'/></query>`, "", false},
		5: {"sha-1", complexHead + complexForm + complexForm + `</query>`, "", false},
		6: {"md5", simple, "", false}, // unknown to the service
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			ver, ok := Ver(tc.algo, parseQuery(t, tc.query))
			if ok != tc.ok || ver != tc.ver {
				t.Errorf("got %q %v, want %q %v", ver, ok, tc.ver, tc.ok)
			}
		})
	}
	if ver, _ := Ver("sha-256", parseQuery(t, simple)); ver == "" || ver == tests[0].ver {
		t.Errorf("sha-256: %q", ver)
	}
}

// FuzzVerString feeds arbitrary disco#info answers (what a client sends
// back to the server's caps query) to the XEP-0115 hash: it must not
// panic, and since §5.1 sorts everything it hashes, the order of the
// answer's children must not change the result.
func FuzzVerString(f *testing.F) {
	f.Add([]byte(`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc'/>` +
		`<feature var='urn:xmpp:devices'/><feature var='urn:xmpp:devices+notify'/></query>`))
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
		ver, ok := Ver("sha-1", el)
		again, okAgain := Ver("sha-1", el)
		if ver != again || ok != okAgain {
			t.Fatalf("not deterministic: %q %v, then %q %v", ver, ok, again, okAgain)
		}
		shuffled := *el
		shuffled.Children = slices.Clone(el.Children)
		slices.Reverse(shuffled.Children)
		if v, k := Ver("sha-1", &shuffled); v != ver || k != ok {
			t.Fatalf("child order changed the ver: %q %v, reversed %q %v\n%s", ver, ok, v, k, b)
		}
	})
}
