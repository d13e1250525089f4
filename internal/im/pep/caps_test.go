package pep

import (
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
			ver, ok := verString(tc.algo, parseQuery(t, tc.query))
			if ok != tc.ok || ver != tc.ver {
				t.Errorf("got %q %v, want %q %v", ver, ok, tc.ver, tc.ok)
			}
		})
	}
	if ver, _ := verString("sha-256", parseQuery(t, simple)); ver == "" || ver == tests[0].ver {
		t.Errorf("sha-256: %q", ver)
	}
}

// TestCapsCache: bounded, least recently used out.
func TestCapsCache(t *testing.T) {
	c := newCapsCache(2)
	c.put("a", map[string]bool{"x": true})
	c.put("b", nil)
	if _, ok := c.get("a"); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.put("c", nil)
	if _, ok := c.get("b"); ok {
		t.Error("b kept past the bound")
	}
	if n, ok := c.get("a"); !ok || !n["x"] || c.len() != 2 {
		t.Errorf("a: %v %v, len %d", n, ok, c.len())
	}
}

func TestInterests(t *testing.T) {
	q := parseQuery(t, `<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:a+notify'/><feature var='urn:b'/><feature var='+notify'/></query>`)
	if got := interests(q); len(got) != 1 || !got["urn:a"] {
		t.Errorf("interests %v", got)
	}
}
