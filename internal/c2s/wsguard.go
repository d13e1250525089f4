package c2s

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
)

// errFrameTooLarge ends a WebSocket connection whose client announced a
// frame larger than it may send now.
var errFrameTooLarge = errors.New("c2s: websocket frame larger than allowed")

// frameGuard reads a client's WebSocket byte stream (RFC 6455 §5.2) on
// behalf of the WebSocket library and refuses a frame as soon as its
// header declares a payload over the limit, before any of the payload
// arrives: the library itself only notices after buffering up to its
// read limit, and a client that announces 2^62 bytes and sends them
// slowly would hold that buffer until the authentication timeout
// (issue 10 item 7). The limit is small before authentication.
//
// Only Read is called, by the library's reader, one call at a time; the
// parse state needs no lock. limit may change from the session's reader.
type frameGuard struct {
	net.Conn
	limit   atomic.Int64
	pending []byte // bytes buffered by the HTTP server before the hijack
	p       frameParser
}

func (g *frameGuard) Read(b []byte) (int, error) {
	var n int
	var err error
	if len(g.pending) > 0 {
		n = copy(b, g.pending)
		g.pending = g.pending[n:]
	} else {
		n, err = g.Conn.Read(b)
	}
	if perr := g.p.scan(b[:n], g.limit.Load()); perr != nil {
		return 0, perr
	}
	return n, err
}

// frameParser follows frame boundaries in a WebSocket byte stream: it
// needs only each header (2 to 14 bytes) and skips payloads.
type frameParser struct {
	hdr     [14]byte
	hn      int   // header bytes gathered
	payload int64 // payload bytes of the current frame still to come
	failed  error
}

// headerLen is the length of a frame header given its first two bytes.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4 // masking key
	}
	return n
}

// scan consumes b, and fails at the first header that declares more
// than limit payload bytes (or an invalid 64-bit length, §5.2: the most
// significant bit must be 0).
func (p *frameParser) scan(b []byte, limit int64) error {
	if p.failed != nil {
		return p.failed
	}
	for len(b) > 0 {
		if p.payload > 0 {
			skip := min(int64(len(b)), p.payload)
			p.payload -= skip
			b = b[skip:]
			continue
		}
		p.hdr[p.hn] = b[0]
		p.hn++
		b = b[1:]
		if p.hn < 2 || p.hn < headerLen(p.hdr[1]) {
			continue
		}
		var length int64
		switch l7 := p.hdr[1] & 0x7f; l7 {
		case 126:
			length = int64(p.hdr[2])<<8 | int64(p.hdr[3])
		case 127:
			var u uint64
			for _, c := range p.hdr[2:10] {
				u = u<<8 | uint64(c)
			}
			if u>>63 != 0 {
				p.failed = errFrameTooLarge
				return p.failed
			}
			length = int64(u)
		default:
			length = int64(l7)
		}
		if length > limit {
			p.failed = errFrameTooLarge
			return p.failed
		}
		p.hn, p.payload = 0, length
	}
	return nil
}

// guardWriter hands the WebSocket library a hijacked connection read
// through a frameGuard.
type guardWriter struct {
	http.ResponseWriter
	guard *frameGuard
}

func (w guardWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// What the client sent after its upgrade request is buffered here;
	// the guard must see it first.
	b, _ := brw.Reader.Peek(brw.Reader.Buffered())
	w.guard.Conn, w.guard.pending = conn, bytes.Clone(b)
	return w.guard, bufio.NewReadWriter(bufio.NewReader(w.guard), brw.Writer), nil
}
