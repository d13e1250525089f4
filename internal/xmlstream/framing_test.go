package xmlstream

import (
	"strconv"
	"testing"
)

func TestParseFrame(t *testing.T) {
	for i, tc := range []struct {
		in        string
		kind      Kind
		name, ns  string // of the token's element; "" for none
		condition string
	}{
		0: {in: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>", kind: StreamStart, name: "open", ns: NSFraming},
		1: {in: "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>", kind: StreamEnd},
		// RFC 7395 §3.3.3: stanzas take the stream's default namespace.
		2: {in: "<message><body>hi</body></message>", kind: StreamElement, name: "message", ns: "jabber:client"},
		// Another element of the framing namespace is no stream boundary.
		3: {in: "<other xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>", kind: StreamElement, name: "other", ns: NSFraming},
		4: {in: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'>", condition: "not-well-formed"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			tok, err := ParseFrame([]byte(tc.in), Limits{}, NewScope("jabber:client"))
			if got := condition(err); got != tc.condition {
				t.Fatalf("error %q, want %q", got, tc.condition)
			}
			if err != nil {
				return
			}
			if tok.Kind != tc.kind {
				t.Errorf("kind %v, want %v", tok.Kind, tc.kind)
			}
			switch {
			case tc.name == "" && tok.El != nil:
				t.Errorf("element %v, want none", tok.El)
			case tc.name != "" && (tok.El == nil || tok.El.Name != tc.name || tok.El.Space != tc.ns):
				t.Errorf("element %v, want <%s xmlns='%s'/>", tok.El, tc.name, tc.ns)
			}
		})
	}
}
