package xmlstream

import (
	"strconv"
	"testing"
)

func TestAppendEncode(t *testing.T) {
	tests := []struct {
		el     *Element
		parent string
		want   string
	}{
		0: {el: New("presence", "jabber:client"), want: `<presence xmlns='jabber:client'/>`},
		1: {el: New("presence", "jabber:client"), parent: "jabber:client", want: `<presence/>`},
		2: {el: New("message", "jabber:client", "to", `a'b"c<d>&e`).Add(NewText("body", "jabber:client", "x < y & 'z'")),
			want: `<message xmlns='jabber:client' to='a&apos;b&quot;c&lt;d&gt;&amp;e'><body>x &lt; y &amp; &apos;z&apos;</body></message>`},
		3: {el: New("iq", "jabber:client").Add(New("query", "jabber:iq:roster")),
			want: `<iq xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq>`},
		4: {el: New("a", "urn:x").Add(New("b", "")), want: `<a xmlns='urn:x'><b xmlns=''/></a>`},
		5: {el: New("a", "", "k", "t\tn\nr\r"), want: `<a k='t&#9;n&#10;r&#13;'/>`},
		6: {el: NewText("a", "", "bad\xffutf8\x01"), want: "<a>bad\uFFFDutf8\uFFFD</a>"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := string(AppendIn(nil, tc.el, tc.parent)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAppendRaw(t *testing.T) {
	client := streamScope()
	tests := []struct {
		in, parent, want string
	}{
		// A stanza from a jabber:client stream gets its inherited namespace.
		0: {in: msgStanza, want: `<message xmlns='jabber:client' to='juliet@example.com/balcony' type='chat' id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body></message>`},
		// Written back into a jabber:client stream: copied as is.
		1: {in: msgStanza, parent: "jabber:client", want: msgStanza},
		2: {in: `<r xmlns='urn:xmpp:sm:3'/>`, want: `<r xmlns='urn:xmpp:sm:3'/>`},
		3: {in: `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`,
			want: `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e, err := ParseIn([]byte(tc.in), Limits{}, client)
			if err != nil {
				t.Fatal(err)
			}
			got := string(AppendIn(nil, e, tc.parent))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if _, err := Parse([]byte(got), Limits{}); err != nil {
				t.Errorf("output does not parse alone: %v", err)
			}
		})
	}
	// A child's Raw gets the namespace it inherited.
	e, _ := ParseIn([]byte(msgStanza), Limits{}, client)
	if got, want := e.Children[0].String(), `<body xmlns='jabber:client'>Art thou not Romeo, and a Montague?</body>`; got != want {
		t.Errorf("child: %s, want %s", got, want)
	}
}

func TestSetAttr(t *testing.T) {
	tests := []struct {
		raw, name, value, want string
	}{
		0: {raw: `<message to='a'/>`, name: "from", value: "b@c/d", want: `<message from='b@c/d' to='a'/>`},
		1: {raw: `<message from='x' to='a'/>`, name: "from", value: "b", want: `<message from='b' to='a'/>`},
		2: {raw: `<message from="x" to='a'>`, name: "from", value: `it's`, want: `<message from='it&apos;s' to='a'>`},
		3: {raw: `<message x='>' from = 'y'><body from='z'/></message>`, name: "from", value: "w", want: `<message x='>' from='w'><body from='z'/></message>`},
		4: {raw: `<presence/>`, name: "to", value: "<&>", want: `<presence to='&lt;&amp;&gt;'/>`},
		5: {raw: `<a b='1' xfrom='2'/>`, name: "from", value: "3", want: `<a from='3' b='1' xfrom='2'/>`},
		6: {raw: `not xml`, name: "from", value: "x", want: ""},
		7: {raw: `<a b='1`, name: "from", value: "x", want: ""},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			raw := []byte(tc.raw)
			got := SetAttr(raw, tc.name, tc.value)
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if string(raw) != tc.raw {
				t.Errorf("SetAttr modified its input")
			}
		})
	}
}

func TestRemoveAttr(t *testing.T) {
	tests := []struct{ raw, name, want string }{
		0: {`<message from='x' to='a'/>`, "from", `<message to='a'/>`},
		1: {`<message to='a' from="x"/>`, "from", `<message to='a'/>`},
		2: {`<message to='a'>`, "from", `<message to='a'>`},
		3: {`<message to='a'  from='>'  >x</message>`, "from", `<message to='a'  >x</message>`},
		4: {`<`, "from", ``},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := string(RemoveAttr([]byte(tc.raw), tc.name)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAppendEscaped(t *testing.T) {
	for _, tc := range []struct {
		in         string
		text, attr string
	}{
		{"", "", ""},
		{"juliet@example.com/balcony", "juliet@example.com/balcony", "juliet@example.com/balcony"},
		{"a&b", "a&amp;b", "a&amp;b"},
		{"<x>", "&lt;x&gt;", "&lt;x&gt;"},
		{`it's "q"`, "it&apos;s &quot;q&quot;", "it&apos;s &quot;q&quot;"},
		{"a\tb\nc\rd", "a\tb\nc&#13;d", "a&#9;b&#10;c&#13;d"},
		{"nul\x00", "nul\uFFFD", "nul\uFFFD"},
		{"café ☕", "café ☕", "café ☕"},
		{"bad\xffutf8", "bad\uFFFDutf8", "bad\uFFFDutf8"},
		{"\uFFFE", "\uFFFD", "\uFFFD"}, // not an XML character
	} {
		if got := string(appendEscaped([]byte("x"), tc.in, false)); got != "x"+tc.text {
			t.Errorf("text %q: got %q, want %q", tc.in, got, "x"+tc.text)
		}
		if got := string(appendEscaped(nil, tc.in, true)); got != tc.attr {
			t.Errorf("attr %q: got %q, want %q", tc.in, got, tc.attr)
		}
	}
}
