package stanza

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/jid"
	"parley/internal/xmlstream"
)

func parse(t *testing.T, s string) *Stanza {
	t.Helper()
	el, err := xmlstream.ParseIn([]byte(s), xmlstream.Limits{}, xmlstream.NewScope(NSClient))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	st, err := Parse(el)
	if err != nil {
		t.Fatalf("stanza %s: %v", s, err)
	}
	return st
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		xml  string
		want *Error // nil: valid
	}{
		0: {`<message to='juliet@example.com'/>`, nil},
		1: {`<message to='@example.com'/>`, ErrJIDMalformed},
		2: {`<presence from='juliet@exa mple.com'/>`, ErrJIDMalformed},
		3: {`<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>`, ErrBadRequest}, // no id
		4: {`<iq type='get' id='1'/>`, ErrBadRequest},                           // no payload
		5: {`<iq type='set' id='1'><a xmlns='urn:x'/><b xmlns='urn:x'/></iq>`, ErrBadRequest},
		6: {`<iq type='bogus' id='1'><a xmlns='urn:x'/></iq>`, ErrBadRequest},
		7: {`<iq type='result' id='1'/>`, nil},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			el, err := xmlstream.ParseIn([]byte(tc.xml), xmlstream.Limits{}, xmlstream.NewScope(NSClient))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(el)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSplicing checks that address stamping and added children keep the
// rest of the bytes untouched and still parse to the same content.
func TestSplicing(t *testing.T) {
	tests := []struct{ in, wantSub string }{
		0: {`<message to='a@b'><body>x &amp; y</body></message>`, `<body>x &amp; y</body><stanza-id xmlns='urn:xmpp:sid:0' id='i'/></message>`},
		1: {`<message to='a@b'/>`, `<stanza-id xmlns='urn:xmpp:sid:0' id='i'/></message>`},
		2: {`<message to='a@b' ><body>z</body></message >`, `<body>z</body><stanza-id xmlns='urn:xmpp:sid:0' id='i'/></message >`},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			st := parse(t, tc.in)
			st.SetFrom(jid.MustParse("romeo@example.net/orchard"))
			st.AddChild(xmlstream.New("stanza-id", "urn:xmpp:sid:0", "id", "i"))
			out := string(st.Bytes())
			if !strings.Contains(out, tc.wantSub) || !strings.Contains(out, `from='romeo@example.net/orchard'`) {
				t.Fatalf("got %s", out)
			}
			again := parse(t, out)
			if again.From != st.From || again.El.Child("stanza-id", "urn:xmpp:sid:0") == nil {
				t.Fatalf("re-parsed %s lost content", out)
			}
		})
	}
}

func TestErrorReply(t *testing.T) {
	st := parse(t, `<iq type='get' id='q1' from='romeo@example.net/orchard' to='juliet@example.com'><query xmlns='jabber:iq:version'/></iq>`)
	r := ErrorReply(st, ErrServiceUnavailable.WithText("no"))
	if r.To != st.From || r.From != st.To || r.Type != "error" || r.ID != "q1" {
		t.Fatalf("reply addressed %v -> %v type %s id %s", r.From, r.To, r.Type, r.ID)
	}
	back := parse(t, string(r.Bytes()))
	e := back.El.Child("error", NSClient)
	if e == nil || e.Get("type") != "cancel" || e.Child("service-unavailable", NSStanzas) == nil || e.ChildText("text", NSStanzas) != "no" {
		t.Fatalf("bad error element: %s", r.Bytes())
	}
	for i, s := range []string{
		`<message type='error' id='1' from='a@b/c'/>`,
		`<iq type='result' id='1' from='a@b/c'/>`,
	} {
		if ErrorReply(parse(t, s), ErrBadRequest) != nil {
			t.Errorf("%d: answered an error or result with an error", i)
		}
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	now := time.Now()
	a, b := newID(now), newID(now.Add(time.Millisecond))
	if len(a) != 16 || len(b) != 16 || a >= b {
		t.Fatalf("ids %q then %q", a, b)
	}
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}
