package xmlstream

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"
)

const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`

var hdrTok = "StreamStart {http://etherx.jabber.org/streams}stream " + header[21:] + "\n"

// tokens reads r to the end and renders what it saw, one line per token.
func tokens(r *Reader) (string, error) {
	var sb strings.Builder
	for {
		tok, err := r.Next()
		if err == io.EOF {
			return sb.String(), nil
		}
		if err != nil {
			return sb.String(), err
		}
		sb.WriteString(tok.Kind.String())
		if tok.El != nil {
			sb.WriteString(" {" + tok.El.Space + "}" + tok.El.Name + " " + string(tok.El.Raw))
		}
		sb.WriteString("\n")
	}
}

func TestReaderStream(t *testing.T) {
	tests := []struct {
		in   string
		want string
		cond string // of the error after the tokens in want
	}{
		0: {in: header + msgStanza + ` ` + "\n\t" + `<r xmlns='urn:xmpp:sm:3'/></stream:stream>`,
			want: "StreamStart {http://etherx.jabber.org/streams}stream " + header[21:] + "\n" +
				"StreamElement {jabber:client}message " + msgStanza + "\n" +
				"StreamElement {urn:xmpp:sm:3}r <r xmlns='urn:xmpp:sm:3'/>\n" +
				"StreamEnd\n"},
		1: {in: `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features></stream:stream >`,
			want: "StreamStart {http://etherx.jabber.org/streams}stream <stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>\n" +
				"StreamElement {http://etherx.jabber.org/streams}features <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>\n" +
				"StreamEnd\n"},
		2: {in: header + `<message><body><![CDATA[</message>]]></body></message>`,
			want: hdrTok + "StreamElement {jabber:client}message <message><body><![CDATA[</message>]]></body></message>\n"},
		3:  {in: header + `<a b='>' c="/>"/>`, want: hdrTok + "StreamElement {jabber:client}a <a b='>' c=\"/>\"/>\n"},
		4:  {in: `<!DOCTYPE stream>`, cond: RestrictedXML},
		5:  {in: header + `<!-- c -->`, want: "StreamStart\n", cond: RestrictedXML},
		6:  {in: header + `<message><!-- c --></message>`, want: "StreamStart\n", cond: RestrictedXML},
		7:  {in: header + `<?pi?>`, want: "StreamStart\n", cond: RestrictedXML},
		8:  {in: `<?xml version='1.0' encoding='UTF-16'?><stream:stream>`, cond: UnsupportedEncoding},
		9:  {in: header + `hello`, want: "StreamStart\n", cond: NotWellFormed},
		10: {in: header + `</stream:streamX>`, want: "StreamStart\n", cond: NotWellFormed},
		11: {in: header + `<message><body>x</message></stream:stream>`, want: "StreamStart\n", cond: NotWellFormed},
		12: {in: header + strings.Repeat("<a>", 33), want: "StreamStart\n", cond: PolicyViolation},
		13: {in: header + "<a" + strings.Repeat(" x='1'", 65), want: "StreamStart\n", cond: PolicyViolation},
		14: {in: `<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>`, cond: NotWellFormed},
		15: {in: header + `<message>&lol;</message>`, want: "StreamStart\n", cond: RestrictedXML},
		16: {in: header + `<message>`, want: "StreamStart\n", cond: "other: unexpected EOF"},
		17: {in: `<?xml version='1.0'?><?xml version='1.0'?>`, cond: RestrictedXML},
		18: {in: header + `<message><![CDATA[x]]]></message><iq/>`, want: hdrTok + "StreamElement {jabber:client}message <message><![CDATA[x]]]></message>\nStreamElement {jabber:client}iq <iq/>\n"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tc.in)
				if oneByte {
					src = iotest.OneByteReader(src)
				}
				got, err := tokens(NewReader(src, Limits{}))
				if !strings.Contains(tc.want, "{") {
					got = stripTokens(got)
				}
				if got != tc.want {
					t.Errorf("oneByte=%v tokens:\n%s\nwant:\n%s", oneByte, got, tc.want)
				}
				if c := condition(err); c != tc.cond {
					t.Errorf("oneByte=%v condition %q, want %q", oneByte, c, tc.cond)
				}
			}
		})
	}
}

func stripTokens(s string) string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if l == "" {
			continue
		}
		if k, _, ok := strings.Cut(l, " "); ok {
			l = k + "\n"
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// Feeding the same stream whole, byte by byte and in odd chunks must give
// the same tokens; pipelined stanzas in one read must all come out.
func TestReaderChunking(t *testing.T) {
	in := header + benchStream(3) + `</stream:stream>`
	want, err := tokens(NewReader(strings.NewReader(in), Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(want, "StreamElement"); n != 3*5 {
		t.Fatalf("%d elements in one read, want 15", n)
	}
	for _, size := range []int{1, 2, 3, 7, 255, 256, 257, 1000, 17000} {
		got, err := tokens(NewReader(&chunkReader{s: in, n: size}, Limits{}))
		if err != nil {
			t.Fatal(size, err)
		}
		if got != want {
			t.Errorf("chunk %d: tokens differ", size)
		}
	}
}

type chunkReader struct {
	s string
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := min(c.n, len(p), len(c.s))
	copy(p, c.s[:n])
	c.s = c.s[n:]
	return n, nil
}

// endless yields a start tag and then text forever, counting what it gave.
type endless struct{ given int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	if e.given == 0 {
		copy(p, header+"<message><body>")
	}
	e.given += len(p)
	return len(p), nil
}

// A stanza that never ends must fail with policy-violation once MaxStanza
// bytes arrived, not after buffering all of it.
func TestReaderMaxStanzaAsBytesArrive(t *testing.T) {
	src := &endless{}
	r := NewReader(src, Limits{})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	if c := condition(err); c != PolicyViolation {
		t.Fatalf("condition %q, want policy-violation", c)
	}
	if src.given > DefaultMaxStanza+largeBuf+len(header) {
		t.Errorf("read %d bytes before failing; limit %d", src.given, DefaultMaxStanza)
	}
	// 1 MiB stanza delivered at once.
	big := header + "<message><body>" + strings.Repeat("a", 1<<20) + "</body></message>"
	r = NewReader(strings.NewReader(big), Limits{})
	r.Next()
	if _, err := r.Next(); condition(err) != PolicyViolation {
		t.Errorf("1 MiB stanza: %v", err)
	}
	if r.BytesRead() > DefaultMaxStanza+2*largeBuf {
		t.Errorf("1 MiB stanza: read %d bytes", r.BytesRead())
	}
}

// bombReader serves a DTD with an entity bomb and then garbage forever.
type bombReader struct{ off int }

func (b *bombReader) Read(p []byte) (int, error) {
	const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`
	n := 0
	for n < len(p) {
		p[n] = bomb[b.off%len(bomb)]
		n++
		b.off++
	}
	return n, nil
}

func TestReaderEntityBombFailsFast(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	src := &bombReader{}
	_, err := NewReader(src, Limits{}).Next()
	runtime.ReadMemStats(&after)
	if c := condition(err); c != RestrictedXML {
		t.Fatalf("condition %q, want restricted-xml", c)
	}
	if src.off > smallBuf {
		t.Errorf("read %d bytes before rejecting the DTD", src.off)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
		t.Errorf("allocated %d bytes rejecting a DTD", grew)
	}
	// The billion laughs body without a DTD is just undeclared entities.
	_, err = Parse([]byte(`<lolz>&lol9;&lol9;</lolz>`), Limits{})
	if condition(err) != RestrictedXML {
		t.Errorf("undeclared entity: %v", err)
	}
}

func TestReaderReset(t *testing.T) {
	r := NewReader(strings.NewReader(header+`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><garbage-after-tls`), Limits{})
	for _, want := range []Kind{StreamStart, StreamElement} {
		tok, err := r.Next()
		if err != nil || tok.Kind != want {
			t.Fatalf("got %v %v, want %v", tok.Kind, err, want)
		}
	}
	// The TLS layer takes over the connection: buffered bytes are dropped
	// and a new stream, with its own optional XML declaration, begins.
	r.Reset(strings.NewReader(header + `<iq type='get' id='1'/>`))
	got, err := tokens(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "StreamStart {http://etherx.jabber.org/streams}stream " + header[21:] + "\nStreamElement {jabber:client}iq <iq type='get' id='1'/>\n"; got != want {
		t.Errorf("after Reset:\n%s\nwant\n%s", got, want)
	}
	// Reset also clears a sticky error.
	r.Reset(strings.NewReader(`<!DOCTYPE x>`))
	if _, err := r.Next(); condition(err) != RestrictedXML {
		t.Fatal(err)
	}
	r.Reset(strings.NewReader(header))
	if tok, err := r.Next(); err != nil || tok.Kind != StreamStart {
		t.Fatal(tok, err)
	}
}

func TestReaderBytesReadCountsWhitespace(t *testing.T) {
	in := header + "   \n \n  "
	r := NewReader(strings.NewReader(in), Limits{})
	if _, err := tokens(r); err != nil {
		t.Fatal(err)
	}
	if r.BytesRead() != int64(len(in)) {
		t.Errorf("BytesRead %d, want %d", r.BytesRead(), len(in))
	}
}

// An idle reader holds only its inline buffer: the large buffer goes back
// to the pool once a read comes back short with nothing pending.
func TestReaderIdleMemory(t *testing.T) {
	in := header + benchStream(20)
	var r *Reader
	borrowed, idleLarge, idleAcc := false, true, true
	src := &hookReader{data: in, after: func() {
		// Runs inside Next's call to Read, on the reading goroutine.
		idleLarge, idleAcc = r.large != nil, r.acc != nil
	}, during: func() {
		borrowed = borrowed || r.large != nil
	}}
	r = NewReader(src, Limits{})
	if _, err := tokens(r); err != nil {
		t.Fatal(err)
	}
	if !borrowed {
		t.Error("large buffer never borrowed during the burst")
	}
	if idleLarge || idleAcc {
		t.Errorf("idle reader holds large=%v acc=%v", idleLarge, idleAcc)
	}
	if size := unsafe.Sizeof(Reader{}); size > 512 {
		t.Errorf("Reader is %d bytes", size)
	}
}

// hookReader fills every read with data (a burst), then returns one
// whitespace keepalive (a short read), then calls after and reports EOF as
// an idle connection that was closed.
type hookReader struct {
	data          string
	keepaliveSent bool
	after, during func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.data != "" {
		h.during()
		n := copy(p, h.data)
		h.data = h.data[n:]
		return n, nil
	}
	if !h.keepaliveSent {
		h.keepaliveSent = true
		p[0] = ' '
		return 1, nil
	}
	h.after()
	return 0, io.EOF
}

func TestReaderErrorsAreSticky(t *testing.T) {
	r := NewReader(strings.NewReader(header+`<a><!--`), Limits{})
	r.Next()
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || !errors.Is(err2, err1) {
		t.Errorf("errors %v then %v", err1, err2)
	}
	var se *SyntaxError
	if !errors.As(err1, &se) || se.Condition != RestrictedXML {
		t.Errorf("got %v", err1)
	}
}

func TestReaderPipelinedOneRead(t *testing.T) {
	in := header + `<r xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:sm:3' h='1'/><presence/>`
	got, err := tokens(NewReader(bytes.NewReader([]byte(in)), Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(got, "StreamElement") != 3 {
		t.Errorf("got %s", got)
	}
}

// The per-connection budget (DESIGN.md) allows under 16 KiB for an idle
// client; the reader's share, after a stream header and a stanza, must
// stay near its inline buffer.
func TestReaderIdleHeap(t *testing.T) {
	if raceEnabled {
		t.Skip("heap figures differ under the race detector")
	}
	const n = 2000
	readers := make([]*Reader, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range readers {
		r := NewReader(strings.NewReader(header+msgStanza), Limits{})
		r.Next()
		r.Next()
		readers[i] = r
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (after.HeapAlloc - before.HeapAlloc) / n
	t.Logf("Reader struct %d bytes; heap per idle reader after a header and a stanza: %d bytes", unsafe.Sizeof(Reader{}), per)
	if per > 2048 {
		t.Errorf("idle reader holds %d bytes", per)
	}
	runtime.KeepAlive(readers)
}
