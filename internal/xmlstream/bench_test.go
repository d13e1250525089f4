package xmlstream

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchStream returns n rounds of a realistic client mix: a chat message,
// a presence with caps, a roster result with 20 items, and stream
// management <r/> and <a/>.
func benchStream(n int) string {
	var sb strings.Builder
	for i := range n {
		sb.WriteString(msgStanza)
		sb.WriteString(`<presence from='romeo@montague.lit/orchard' xml:lang='en'><show>away</show><status>In the orchard &amp; thinking</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>`)
		sb.WriteString(`<iq type='result' id='roster_` + fmt.Sprint(i) + `' to='juliet@example.com/balcony'><query xmlns='jabber:iq:roster' ver='ver14'>`)
		for k := range 20 {
			fmt.Fprintf(&sb, `<item jid='contact%d@example.net' name='Contact %d' subscription='both'><group>Friends</group></item>`, k, k)
		}
		sb.WriteString(`</query></iq>`)
		sb.WriteString(`<r xmlns='urn:xmpp:sm:3'/>`)
		fmt.Fprintf(&sb, `<a xmlns='urn:xmpp:sm:3' h='%d'/>`, i)
	}
	return sb.String()
}

func BenchmarkReader(b *testing.B) {
	in := []byte(header + benchStream(100) + `</stream:stream>`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	src := bytes.NewReader(in)
	r := NewReader(src, Limits{})
	for b.Loop() {
		src.Reset(in)
		r.Reset(src)
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStdlibTokens is the alternative: encoding/xml's Decoder.Token
// over the same bytes (tokens only, no tree, no limits).
func BenchmarkStdlibTokens(b *testing.B) {
	benchStdlib(b, []byte(header+benchStream(100)+`</stream:stream>`))
}

func BenchmarkParseMessage(b *testing.B) {
	in := []byte(msgStanza)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlibMessage(b *testing.B) { benchStdlib(b, []byte(msgStanza)) }

// benchStdlib reads every token of in with encoding/xml's Decoder.
func benchStdlib(b *testing.B, in []byte) {
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	src := bytes.NewReader(in)
	for b.Loop() {
		src.Reset(in)
		d := xml.NewDecoder(src)
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	e, err := Parse([]byte(msgStanza), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	clearRaw(e)
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(msgStanza)))
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], e)
	}
}

func BenchmarkAppendRaw(b *testing.B) {
	e, err := ParseIn([]byte(msgStanza), Limits{}, NewScope("jabber:client"))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(msgStanza)))
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], e)
	}
}

func BenchmarkSetAttr(b *testing.B) {
	raw := []byte(msgStanza)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		SetAttr(raw, "from", "romeo@example.net/orchard")
	}
}

func clearRaw(e *Element) {
	e.Raw = nil
	for _, c := range e.Children {
		clearRaw(c)
	}
}
