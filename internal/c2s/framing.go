package c2s

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/clock"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// framing is what differs between a TCP stream (RFC 6120) and WebSocket
// (RFC 7395): how the stream is opened and closed, and how bytes are framed.
// The session's negotiation logic is the same for both.
type framing interface {
	next() (xmlstream.Token, error)
	// header is the response stream header (RFC 6120 §4.7; RFC 7395 §3.3.2).
	header(id, from, to, lang string) []byte
	// features wraps stream features (RFC 6120 §4.3.2).
	features(inner []byte) []byte
	// streamError serialises a stream error (RFC 6120 §4.9).
	streamError(e *stanza.StreamError) []byte
	// trailer closes the stream (RFC 6120 §4.4; RFC 7395 §3.6).
	trailer() []byte
	// writeFrames writes queued stanzas; called only by the outbox writer
	// or, before the session is bound, by the reader goroutine.
	writeFrames(bufs [][]byte) error
	// restart expects a new stream header (RFC 6120 §6.4.6).
	restart()
	// authenticated lifts the small pre-authentication element limit to
	// the configured one.
	authenticated()
	close() error
}

const streamsNS = "http://etherx.jabber.org/streams"

// tcpFraming is a classic XML stream over TCP or TLS.
type tcpFraming struct {
	mu       sync.Mutex // guards conn against close during the STARTTLS swap
	conn     net.Conn   // the TLS conn after STARTTLS
	reader   *xmlstream.Reader
	lastRead *atomic.Int64 // unix seconds of the last byte read
	clock    clock.Clock
	limits   xmlstream.Limits
}

// activityConn records when bytes last arrived, for the idle sweeper
// (no per-connection timer).
type activityConn struct {
	net.Conn
	last  *atomic.Int64
	clock clock.Clock
}

func (c activityConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last.Store(c.clock.Now().Unix())
	}
	return n, err
}

// preAuthStanza bounds any element (the stream header included) before
// authentication: negotiation (STARTTLS, SASL, in-band registration) needs
// a few KiB, and an unauthenticated connection must not hold the full
// stanza limit of memory (issue 10 item 7).
const preAuthStanza = 8 << 10

// preAuth are the limits of an unauthenticated stream.
func preAuth(lim xmlstream.Limits) xmlstream.Limits {
	lim.MaxStanza = preAuthStanza
	return lim
}

func newTCPFraming(conn net.Conn, lim xmlstream.Limits, last *atomic.Int64, clk clock.Clock) *tcpFraming {
	f := &tcpFraming{conn: conn, lastRead: last, clock: clk, limits: lim}
	f.reader = xmlstream.NewReader(activityConn{conn, last, clk}, preAuth(lim))
	return f
}

func (f *tcpFraming) authenticated() { f.reader.SetLimits(f.limits) }

func (f *tcpFraming) next() (xmlstream.Token, error) { return f.reader.Next() }

func (f *tcpFraming) header(id, from, to, lang string) []byte {
	var b strings.Builder
	b.WriteString("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='")
	b.WriteString(streamsNS)
	b.WriteString("' id='")
	b.WriteString(id)
	b.WriteString("' from='")
	b.WriteString(xmlEscape(from))
	if to != "" {
		b.WriteString("' to='")
		b.WriteString(xmlEscape(to))
	}
	b.WriteString("' version='1.0' xml:lang='")
	b.WriteString(xmlEscape(lang))
	b.WriteString("'>")
	return []byte(b.String())
}

func (f *tcpFraming) features(inner []byte) []byte {
	b := append([]byte("<stream:features>"), inner...)
	return append(b, "</stream:features>"...)
}

func (f *tcpFraming) streamError(e *stanza.StreamError) []byte {
	return appendStreamError([]byte("<stream:error>"), e)
}

// appendStreamError writes the body of a stream error and its end tag.
func appendStreamError(b []byte, e *stanza.StreamError) []byte {
	for _, c := range e.Element().Children {
		b = xmlstream.AppendIn(b, c, streamsNS)
	}
	return append(b, "</stream:error>"...)
}

func (f *tcpFraming) trailer() []byte { return []byte("</stream:stream>") }

func (f *tcpFraming) writeFrames(bufs [][]byte) error {
	var buf []byte
	var pooled *[]byte
	if len(bufs) == 1 {
		buf = bufs[0]
	} else {
		// One write for everything queued: one syscall (one TLS record
		// run) instead of one per stanza.
		pooled = bufPool.Get().(*[]byte)
		buf = (*pooled)[:0]
		for _, b := range bufs {
			buf = append(buf, b...)
		}
	}
	f.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := f.conn.Write(buf)
	if pooled != nil && cap(buf) <= 256<<10 {
		*pooled = buf[:0]
		bufPool.Put(pooled)
	}
	return err
}

func (f *tcpFraming) restart() { f.reader.Reset(activityConn{f.conn, f.lastRead, f.clock}) }

func (f *tcpFraming) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conn.Close()
}

// startTLS upgrades the connection (RFC 6120 §5.4.3.3) and resets the
// reader: bytes buffered before the handshake are discarded, as the RFC
// requires.
func (f *tcpFraming) startTLS(cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Server(f.conn, cfg)
	tc.SetDeadline(time.Now().Add(writeTimeout))
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	tc.SetDeadline(time.Time{})
	f.mu.Lock()
	f.conn = tc
	f.mu.Unlock()
	f.reader.Reset(activityConn{tc, f.lastRead, f.clock})
	return tc, nil
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;")

func xmlEscape(s string) string {
	if !strings.ContainsAny(s, "&<>'\"") {
		return s
	}
	return xmlEscaper.Replace(s)
}
