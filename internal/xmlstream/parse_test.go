package xmlstream

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

const msgStanza = `<message to='juliet@example.com/balcony' type='chat' id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body></message>`

func condition(err error) string {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Condition
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

func TestParseNamespaces(t *testing.T) {
	tests := []struct {
		in    string
		scope *Scope
		// path of child indexes -> want local name and space
		want []struct {
			path  []int
			name  string
			space string
		}
	}{
		0: {in: `<a xmlns='urn:x'><b/></a>`, want: []struct {
			path  []int
			name  string
			space string
		}{{nil, "a", "urn:x"}, {[]int{0}, "b", "urn:x"}}},
		1: {in: `<p:a xmlns:p='urn:p'><b/><p:c/></p:a>`, want: []struct {
			path  []int
			name  string
			space string
		}{{nil, "a", "urn:p"}, {[]int{0}, "b", ""}, {[]int{1}, "c", "urn:p"}}},
		2: {in: `<a xmlns='urn:1'><b xmlns='urn:2'><c/></b><d/></a>`, want: []struct {
			path  []int
			name  string
			space string
		}{{[]int{0}, "b", "urn:2"}, {[]int{0, 0}, "c", "urn:2"}, {[]int{1}, "d", "urn:1"}}},
		3: {in: `<message><body/></message>`, scope: NewScope("jabber:client"), want: []struct {
			path  []int
			name  string
			space string
		}{{nil, "message", "jabber:client"}, {[]int{0}, "body", "jabber:client"}}},
		4: {in: `<stream:error><x xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`, scope: streamScope(), want: []struct {
			path  []int
			name  string
			space string
		}{{nil, "error", "http://etherx.jabber.org/streams"}, {[]int{0}, "x", "urn:ietf:params:xml:ns:xmpp-streams"}}},
		5: {in: `<p:a xmlns:p='urn:1'><p:b xmlns:p='urn:2'/><p:c/></p:a>`, want: []struct {
			path  []int
			name  string
			space string
		}{{[]int{0}, "b", "urn:2"}, {[]int{1}, "c", "urn:1"}}},
		6: {in: `<a xmlns='urn:1'><b xmlns=''/></a>`, want: []struct {
			path  []int
			name  string
			space string
		}{{[]int{0}, "b", ""}}},
		7: {in: `<xml:a/>`, want: []struct {
			path  []int
			name  string
			space string
		}{{nil, "a", XMLSpace}}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e, err := ParseIn([]byte(tc.in), Limits{}, tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				c := e
				for _, k := range w.path {
					c = c.Children[k]
				}
				if c.Name != w.name || c.Space != w.space {
					t.Errorf("%v: got {%s %s}, want {%s %s}", w.path, c.Name, c.Space, w.name, w.space)
				}
			}
		})
	}
}

func streamScope() *Scope {
	s := NewScope("jabber:client")
	s.Bind("stream", "http://etherx.jabber.org/streams")
	return s
}

func TestParseContent(t *testing.T) {
	tests := []struct {
		in    string
		text  string
		attrs []Attr
	}{
		0:  {in: `<a>plain</a>`, text: "plain"},
		1:  {in: `<a>&lt;&gt;&amp;&quot;&apos;</a>`, text: `<>&"'`},
		2:  {in: `<a>&#65;&#x42;&#x1F600;</a>`, text: "AB😀"},
		3:  {in: `<a><![CDATA[<x>&amp;]]></a>`, text: "<x>&amp;"},
		4:  {in: `<a>x<b>ignored</b>y<![CDATA[z]]></a>`, text: "xyz"},
		5:  {in: "<a>l1\r\nl2\rl3</a>", text: "l1\nl2\nl3"},
		6:  {in: `<a k='&lt;v&#10;' m="it's"/>`, attrs: []Attr{{"k", "<v\n"}, {"m", "it's"}}},
		7:  {in: "<a k='x\ty\nz'/>", attrs: []Attr{{"k", "x y z"}}},
		8:  {in: `<a xml:lang='en' xmlns='urn:x' xmlns:p='urn:p' p:q='1'/>`, attrs: []Attr{{"xml:lang", "en"}, {"p:q", "1"}}},
		9:  {in: "  <a>é ü ☃</a>\n", text: "é ü ☃"},
		10: {in: `<?xml version='1.0' encoding='utf-8'?><a/>`},
		11: {in: `<a>]]</a>`, text: "]]"},
		12: {in: `<a k = "v" />`, attrs: []Attr{{"k", "v"}}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e, err := Parse([]byte(tc.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if e.Text != tc.text {
				t.Errorf("text %q, want %q", e.Text, tc.text)
			}
			if len(e.Attr) != len(tc.attrs) {
				t.Fatalf("attrs %v, want %v", e.Attr, tc.attrs)
			}
			for k := range e.Attr {
				if e.Attr[k] != tc.attrs[k] {
					t.Errorf("attr %d: %v, want %v", k, e.Attr[k], tc.attrs[k])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("<a>", 33) + strings.Repeat("</a>", 33)
	ok32 := strings.Repeat("<a>", 32) + strings.Repeat("</a>", 32)
	manyAttrs := "<a"
	for i := range 65 {
		manyAttrs += " a" + strconv.Itoa(i) + "='1'"
	}
	manyAttrs += "/>"
	tests := []struct {
		in   string
		lim  Limits
		cond string
	}{
		0:  {in: `<a>`, cond: NotWellFormed},
		1:  {in: `<a></b>`, cond: NotWellFormed},
		2:  {in: `<a><!-- hi --></a>`, cond: RestrictedXML},
		3:  {in: `<a><?pi x?></a>`, cond: RestrictedXML},
		4:  {in: `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, cond: RestrictedXML},
		5:  {in: `<a>&lol9;</a>`, cond: RestrictedXML},
		6:  {in: `<a>&;</a>`, cond: NotWellFormed},
		7:  {in: `<a>& b</a>`, cond: NotWellFormed},
		8:  {in: "<a>\xff</a>", cond: NotWellFormed},
		9:  {in: "<a>\x01</a>", cond: NotWellFormed},
		10: {in: `<a>&#0;</a>`, cond: NotWellFormed},
		11: {in: `<a>&#xD800;</a>`, cond: NotWellFormed},
		12: {in: `<p:a/>`, cond: NotWellFormed},
		13: {in: `<a p:x='1'/>`, cond: NotWellFormed},
		14: {in: `<a x='1' x='2'/>`, cond: NotWellFormed},
		15: {in: `<a x=1/>`, cond: NotWellFormed},
		16: {in: `<a x='<'/>`, cond: NotWellFormed},
		17: {in: `<a/><b/>`, cond: NotWellFormed},
		18: {in: `<a>]]></a>`, cond: NotWellFormed},
		19: {in: `<?xml version='1.0' encoding='ISO-8859-1'?><a/>`, cond: UnsupportedEncoding},
		20: {in: deep, cond: PolicyViolation},
		21: {in: ok32},
		22: {in: manyAttrs, cond: PolicyViolation},
		23: {in: `<a>` + strings.Repeat("x", 100) + `</a>`, lim: Limits{MaxStanza: 50}, cond: PolicyViolation},
		24: {in: `<a xmlns:p=''/>`, cond: NotWellFormed},
		25: {in: `<a xmlns:xmlns='urn:x'/>`, cond: NotWellFormed},
		26: {in: `<a><!DOCTYPE x></a>`, cond: RestrictedXML},
		27: {in: `<a b='1'c='2'/>`, cond: NotWellFormed},
		28: {in: `<?xml-stylesheet href='x'?><a/>`, cond: RestrictedXML},
		29: {in: `<a>&amp</a>`, cond: NotWellFormed},
		30: {in: "<a>\uFFFE</a>", cond: NotWellFormed},
		31: {in: `<a:b:c xmlns:a='x'/>`, cond: NotWellFormed},
		32: {in: `<a xmlns='1' xmlns='2'/>`, cond: NotWellFormed},
		33: {in: ``, cond: NotWellFormed},
		34: {in: `<a x='&#65;' y='&bogus;'/>`, cond: RestrictedXML},
		35: {in: "<a\xff/>", cond: NotWellFormed},
		36: {in: `<a><![CDATA[x</a>`, cond: NotWellFormed},
		37: {in: `<![CDATA[x]]>`, cond: NotWellFormed},
		38: {in: `<a><!x></a>`, cond: NotWellFormed},
		39: {in: `<?xml version='1.0'?><?xml version='1.0'?><a/>`, cond: RestrictedXML},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			_, err := Parse([]byte(tc.in), tc.lim)
			if got := condition(err); got != tc.cond {
				t.Errorf("condition %q, want %q (err %v)", got, tc.cond, err)
			}
		})
	}
}

// Raw of every element must be the exact bytes it was parsed from and must
// share the source buffer.
func TestParseRawSubslices(t *testing.T) {
	src := []byte(`  <iq type='result' id='r1'><query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='c@d'><group>G</group></item></query></iq>  `)
	e, err := Parse(src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"iq":    `<iq type='result' id='r1'><query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='c@d'><group>G</group></item></query></iq>`,
		"query": `<query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='c@d'><group>G</group></item></query>`,
		"item0": `<item jid='a@b'/>`,
		"item1": `<item jid='c@d'><group>G</group></item>`,
		"group": `<group>G</group>`,
	}
	q := e.Children[0]
	got := map[string]*Element{"iq": e, "query": q, "item0": q.Children[0], "item1": q.Children[1], "group": q.Children[1].Children[0]}
	for k, el := range got {
		if string(el.Raw) != want[k] {
			t.Errorf("%s Raw = %q, want %q", k, el.Raw, want[k])
		}
		if cap(el.Raw) != len(el.Raw) {
			t.Errorf("%s Raw has spare capacity; appending would overwrite the source", k)
		}
		off := strings.Index(string(src), want[k])
		if &el.Raw[0] != &src[off] {
			t.Errorf("%s Raw is not a sub-slice of the source", k)
		}
	}
	if len(q.Children) != 2 || q.Children[1].Get("jid") != "c@d" || q.Children[1].ChildText("group", "") != "G" {
		t.Errorf("tree wrong: %s", e)
	}
}

func TestParseMessageAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	src := []byte(msgStanza)
	n := testing.AllocsPerRun(200, func() {
		if _, err := Parse(src, Limits{}); err != nil {
			t.Fatal(err)
		}
	})
	if n > 3 {
		t.Errorf("Parse of a small message: %v allocs, want <= 3", n)
	}
}

func TestParseFraming(t *testing.T) {
	// RFC 7395 §3.3.1: each WebSocket frame is one complete element.
	tests := []struct{ in, name string }{
		0: {`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>`, "open"},
		1: {`<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`, "close"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e, err := Parse([]byte(tc.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if e.Name != tc.name || e.Space != "urn:ietf:params:xml:ns:xmpp-framing" || string(e.Raw) != tc.in {
				t.Errorf("got %+v", e)
			}
		})
	}
}

func TestCutText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"away", 10, "away"},
		{"away", 4, "away"},
		{"away", 2, "aw"},
		{"café", 4, "caf"}, // é is two bytes: not split
		{"café", 5, "café"},
		{"日本", 2, ""},
		{"", 0, ""},
	} {
		if got := CutText(tc.s, tc.n); got != tc.want {
			t.Errorf("CutText(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
