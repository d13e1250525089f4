package xmlstream

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// Kind says what a Token is.
type Kind uint8

const (
	// StreamStart is the stream header (<stream:stream ...>). Its El has
	// no children; Raw holds the header bytes and Name/Space/Attr are
	// resolved.
	StreamStart Kind = iota + 1
	// StreamElement is a complete top-level element of the stream: a
	// stanza, or a nonza such as <starttls/>, <auth/> or <r/>.
	StreamElement
	// StreamEnd is the closing tag of the stream element. El is nil.
	StreamEnd
)

func (k Kind) String() string {
	switch k {
	case StreamStart:
		return "StreamStart"
	case StreamElement:
		return "StreamElement"
	case StreamEnd:
		return "StreamEnd"
	}
	return "Kind(?)"
}

// Token is one unit of an XMPP stream.
type Token struct {
	Kind Kind
	El   *Element
}

// Buffer sizes. An idle connection holds only the inline buffer; a
// connection that is receiving data borrows a large one from a pool.
const (
	smallBuf = 256
	largeBuf = 16 << 10
	// maxPooledAcc bounds the stanza accumulators kept in the pool so one
	// big stanza does not pin its buffer forever.
	maxPooledAcc = 64 << 10
)

var (
	largePool = sync.Pool{New: func() any { b := make([]byte, largeBuf); return &b }}
	accPool   = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}
)

// scanner states
const (
	stPrologue uint8 = iota // before the header: space, one XML declaration
	stStream                // between top-level elements: space only
	stLt                    // after a top-level '<'
	stDecl                  // inside <?xml ...?>; match counts a pending '?'
	stStartTag              // inside a start tag, outside quotes
	stQuote                 // inside a quoted attribute value
	stText                  // in element content
	stTagLt                 // after '<' in element content
	stEndTag                // inside an end tag
	stBang                  // after "<!" in content; match indexes "[CDATA["
	stCDATA                 // inside CDATA; match counts trailing ']'
	stEnded                 // after the stream's end tag
)

// segment kinds
const (
	segDecl uint8 = iota + 1
	segHeader
	segStanza
	segEnd
)

// Reader reads an XMPP stream (RFC 6120 §4) from a connection: an optional
// XML declaration, the stream header, top-level elements and the stream end
// tag. Whitespace between top-level elements (keepalives, RFC 6120 §4.6.1)
// is consumed silently by Next, which keeps reading; BytesRead shows that
// bytes arrived.
//
// Limits are enforced by a byte-level scanner as bytes arrive, before a
// stanza is buffered whole; only a complete top-level element is parsed.
// A Reader is used by one goroutine; BytesRead may be called from any.
type Reader struct {
	src io.Reader
	lim Limits

	read atomic.Int64 // total bytes read from all sources

	buf      []byte  // the current read buffer: small[:] or *large
	pos, end int     // unscanned bytes are buf[pos:end]
	large    *[]byte // borrowed while bytes keep flowing
	lastFull bool    // the last read filled its buffer
	srcErr   error   // an error src returned along with data
	err      error   // sticky error

	state    uint8
	seg      uint8   // kind of the segment being accumulated, 0 for none
	segStart int     // where the segment starts in buf
	acc      *[]byte // the part of a segment that came in earlier reads
	depth    int     // open elements in the stanza
	attrs    int     // '=' signs seen in the current start tag
	match    int
	quote    byte
	slash    bool // the last byte of the start tag so far was '/'
	declSeen bool

	scope   *Scope // declarations of the stream header, inherited by stanzas
	endName string // qualified name of the stream element

	small [smallBuf]byte
}

// NewReader returns a Reader of src. Zero fields of lim take defaults.
func NewReader(src io.Reader, lim Limits) *Reader {
	return &Reader{src: src, lim: lim.withDefaults()}
}

// SetLimits replaces the limits for the tokens read from now on (a
// server allows little before authentication, issue 10 item 7). Zero
// fields take defaults. Call it between tokens, from the reading goroutine.
func (r *Reader) SetLimits(lim Limits) { r.lim = lim.withDefaults() }

// BytesRead returns the number of bytes read from all sources so far,
// whitespace keepalives included, so the caller can tell an idle peer from
// one that sends whitespace. It is safe to call concurrently with Next.
func (r *Reader) BytesRead() int64 { return r.read.Load() }

// Buffered returns the bytes read from the source and not yet scanned,
// valid until the next call of Next or Reset: between elements, what the
// peer sent after the last one, for a caller that goes on reading the
// source itself.
func (r *Reader) Buffered() []byte { return r.buf[r.pos:r.end] }

// Reset discards buffered bytes and any error and makes r read a new stream
// (optional XML declaration, then a header) from src, as needed after
// STARTTLS and SASL success (RFC 6120 §5.4.3.3, §6.4.6).
func (r *Reader) Reset(src io.Reader) {
	r.release()
	r.src = src
	r.pos, r.end, r.lastFull, r.srcErr, r.err = 0, 0, false, nil, nil
	r.state, r.seg, r.declSeen, r.scope, r.endName = stPrologue, 0, false, nil, ""
}

func (r *Reader) release() {
	if r.large != nil {
		largePool.Put(r.large)
		r.large = nil
	}
	r.buf = nil
	r.dropAcc()
}

func (r *Reader) dropAcc() {
	if r.acc == nil {
		return
	}
	if cap(*r.acc) <= maxPooledAcc {
		*r.acc = (*r.acc)[:0]
		accPool.Put(r.acc)
	}
	r.acc = nil
}

// Next returns the next token, reading from the source as needed. After
// StreamEnd it returns io.EOF. At the end of input it returns io.EOF
// between top-level elements and io.ErrUnexpectedEOF inside one. Errors
// are sticky until Reset; syntax and limit errors are *SyntaxError.
func (r *Reader) Next() (Token, error) {
	if r.err != nil {
		return Token{}, r.err
	}
	for empty := 0; ; {
		if r.state == stEnded {
			return Token{}, io.EOF
		}
		if r.pos < r.end {
			tok, ok, err := r.scan()
			if err != nil {
				return Token{}, r.fail(err)
			}
			if ok {
				r.idle()
				return tok, nil
			}
			continue
		}
		if r.seg != 0 {
			r.spill()
		}
		if r.srcErr != nil {
			return Token{}, r.fail(r.eofError(r.srcErr))
		}
		n, err := r.fill()
		if n == 0 && err == nil {
			if empty++; empty > 100 {
				return Token{}, r.fail(io.ErrNoProgress)
			}
		}
		r.srcErr = err
	}
}

// idle gives the large buffer back as soon as it is drained after a short
// read with no segment pending: the caller may now process the token for a
// long time, or the peer may go quiet.
func (r *Reader) idle() {
	if r.large != nil && r.pos == r.end && !r.lastFull && r.seg == 0 {
		largePool.Put(r.large)
		r.large, r.buf = nil, nil
	}
}

func (r *Reader) fail(err error) error {
	r.err = err
	r.release()
	return err
}

func (r *Reader) eofError(err error) error {
	if errors.Is(err, io.EOF) && (r.seg != 0 || (r.state != stPrologue && r.state != stStream)) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fill reads into the inline buffer while the connection trickles and into
// a pooled large one while reads come back full, giving the large buffer
// back as soon as a read is short and no segment is pending, so an idle
// connection holds only the inline buffer.
func (r *Reader) fill() (int, error) {
	if r.large != nil && !r.lastFull && r.seg == 0 {
		largePool.Put(r.large)
		r.large = nil
	}
	if r.large == nil && r.lastFull {
		r.large = largePool.Get().(*[]byte)
	}
	r.buf = r.small[:]
	if r.large != nil {
		r.buf = *r.large
	}
	n, err := r.src.Read(r.buf)
	if n < 0 || n > len(r.buf) {
		return 0, errors.New("xmlstream: source returned an invalid count")
	}
	r.read.Add(int64(n))
	r.pos, r.end, r.lastFull = 0, n, n == len(r.buf)
	return n, err
}

// spill moves the pending part of a segment out of the read buffer, which
// is about to be overwritten.
func (r *Reader) spill() {
	if r.acc == nil {
		r.acc = accPool.Get().(*[]byte)
	}
	*r.acc = append(*r.acc, r.buf[r.segStart:r.end]...)
	r.segStart = 0
}

func (r *Reader) begin(seg uint8, i int) {
	r.seg, r.segStart = seg, i
}

// past returns the index just past the first c in b[i:] and true, or
// len(b) and false when there is none: the whole chunk is consumed.
func past(b []byte, i int, c byte) (int, bool) {
	n := bytes.IndexByte(b[i:], c)
	if n < 0 {
		return len(b), false
	}
	return i + n + 1, true
}

// scan advances through buf[pos:end] and returns a token when one is
// complete.
func (r *Reader) scan() (Token, bool, error) {
	all := r.buf[:r.end]
	i := r.pos
	var found bool
	for i < len(all) {
		// Inside a segment, look no further than one byte past MaxStanza,
		// so the same input fails the same way however reads split it.
		b := all
		if r.seg != 0 {
			if lim := r.segStart + r.lim.MaxStanza - r.segLen(r.segStart) + 1; lim < len(b) {
				b = b[:lim]
			}
		}
		switch r.state {
		case stPrologue, stStream:
			i = skipSpace(b, i)
			if i == len(b) {
				break
			}
			if b[i] != '<' {
				return Token{}, false, errNWF("text outside a stanza")
			}
			r.begin(segStanza, i)
			i++
			r.state = stLt
		case stLt:
			prologue := r.endName == ""
			switch c := b[i]; {
			case c == '?' && prologue && !r.declSeen:
				r.seg, r.state, r.match = segDecl, stDecl, 0
				i++
			case c == '?':
				return Token{}, false, errRestricted("processing instruction")
			case c == '!':
				return Token{}, false, errRestricted("comment, DTD or CDATA outside a stanza")
			case c == '/' && !prologue:
				r.seg, r.state = segEnd, stEndTag
				i++
			default:
				r.seg = segStanza
				if prologue {
					r.seg = segHeader
				}
				r.depth, r.attrs, r.slash, r.state = 1, 0, false, stStartTag
			}
		case stDecl:
			if r.match == 0 {
				if i, found = past(b, i, '?'); found {
					r.match = 1
				}
				break
			}
			c := b[i]
			i++
			if c == '>' {
				err := checkXMLDecl(r.take(i))
				r.dropAcc()
				if err != nil {
					return Token{}, false, err
				}
				r.declSeen, r.state = true, stPrologue
			} else if c != '?' {
				r.match = 0
			}
		case stStartTag:
			var done bool
			var err error
			if i, done, err = r.startTag(b, i); err != nil {
				return Token{}, false, err
			}
			if done {
				return r.complete(i)
			}
		case stQuote:
			if i, found = past(b, i, r.quote); found {
				r.state = stStartTag
			}
		case stText:
			if i, found = past(b, i, '<'); found {
				r.state = stTagLt
			}
		case stTagLt:
			switch b[i] {
			case '/':
				r.state = stEndTag
				i++
			case '!':
				r.state, r.match = stBang, 0
				i++
			case '?':
				return Token{}, false, errRestricted("processing instruction")
			default:
				if r.depth++; r.depth > r.lim.MaxDepth {
					return Token{}, false, errPolicy("element nesting deeper than MaxDepth")
				}
				r.attrs, r.slash, r.state = 0, false, stStartTag
			}
		case stEndTag:
			if i, found = past(b, i, '>'); !found {
				break
			}
			if r.seg == segEnd {
				return r.complete(i)
			}
			if r.depth--; r.depth == 0 {
				return r.complete(i)
			}
			r.state = stText
		case stBang:
			const cdata = "[CDATA["
			c := b[i]
			if c != cdata[r.match] {
				if r.match == 0 && (c == '-' || c >= 'A' && c <= 'Z') {
					return Token{}, false, errRestricted("comment or DTD")
				}
				return Token{}, false, errNWF("bad markup after '<!'")
			}
			i++
			if r.match++; r.match == len(cdata) {
				r.state, r.match = stCDATA, 0
			}
		case stCDATA:
			if r.match == 0 {
				if i, found = past(b, i, ']'); found {
					r.match = 1
				}
				break
			}
			c := b[i]
			i++
			switch {
			case c == ']':
				r.match = 2
			case c == '>' && r.match == 2:
				r.state, r.match = stText, 0
			default:
				r.match = 0
			}
		}
		if r.seg != 0 && r.segLen(i) > r.lim.MaxStanza {
			return Token{}, false, errPolicy("top-level element larger than MaxStanza")
		}
	}
	r.pos = i
	return Token{}, false, nil
}

func (r *Reader) segLen(i int) int {
	n := i - r.segStart
	if r.acc != nil {
		n += len(*r.acc)
	}
	return n
}

// startTag scans a start tag up to its '>' (or the end of b), counting
// attributes and entering quoted values.
func (r *Reader) startTag(b []byte, i int) (next int, done bool, err error) {
	for i < len(b) {
		c := b[i]
		i++
		switch c {
		case '\'', '"':
			r.quote, r.state, r.slash = c, stQuote, false
			return i, false, nil
		case '=':
			if r.attrs++; r.attrs > r.lim.MaxAttrs {
				return i, false, errPolicy("more attributes than MaxAttrs")
			}
		case '<':
			return i, false, errNWF("'<' in start tag")
		case '/':
			r.slash = true
			continue
		case '>':
			switch {
			case r.seg == segHeader:
				if r.slash {
					return i, false, errNWF("self-closing stream header")
				}
				return i, true, nil
			case r.slash:
				r.depth--
			}
			if r.depth == 0 {
				return i, true, nil
			}
			r.state = stText
			return i, false, nil
		}
		r.slash = false
	}
	return i, false, nil
}

// take ends the current segment at buf[i] and returns its bytes, which
// stay valid only until the next read.
func (r *Reader) take(i int) []byte {
	data := r.buf[r.segStart:i]
	if r.acc != nil {
		*r.acc = append(*r.acc, data...)
		data = *r.acc
	}
	r.seg = 0
	return data
}

// complete finishes a header, stanza or end tag ending at buf[i].
func (r *Reader) complete(i int) (Token, bool, error) {
	seg := r.seg
	data := r.take(i)
	r.pos = i
	if seg == segEnd {
		// Only the stream's own end tag can close depth 0.
		rest, ok := bytes.CutPrefix(data, []byte("</"))
		if ok {
			rest, ok = bytes.CutPrefix(rest, []byte(r.endName))
		}
		if !ok || skipSpace(rest, 0) != len(rest)-1 {
			r.dropAcc()
			return Token{}, false, errNWF("mismatched end tag at stream level")
		}
		r.dropAcc()
		r.state = stEnded
		return Token{Kind: StreamEnd}, true, nil
	}
	// The element's strings are views of this copy (see parser.view).
	own := make([]byte, len(data))
	copy(own, data)
	r.dropAcc()
	r.state = stStream
	if seg == segHeader {
		el, scope, err := parseHeader(own, r.lim)
		if err != nil {
			return Token{}, false, err
		}
		r.scope, r.endName = scope, string(own[1:nameEnd(own, 1)])
		return Token{Kind: StreamStart, El: el}, true, nil
	}
	el, err := ParseIn(own, r.lim, r.scope)
	if err != nil {
		return Token{}, false, err
	}
	return Token{Kind: StreamElement, El: el}, true, nil
}
