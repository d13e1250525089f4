package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"parley/internal/xmpptest"
)

// maxUnit bounds one top-level element the generator will buffer.
const maxUnit = 1 << 20

// ServerError is a stream error or the end of the stream sent by the server.
type ServerError struct {
	Unit string // the stream error element, or "</stream:stream>"
}

func (e *ServerError) Error() string {
	s := e.Unit
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return "server ended the stream: " + s
}

// Conn is one client stream. Reading is done by one goroutine at a time
// (Next); Write may be called from another.
type Conn struct {
	nc   net.Conn
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	// JID is the full JID the server bound.
	JID string
}

// Write sends raw bytes.
func (c *Conn) Write(b []byte) error {
	_, err := c.nc.Write(b)
	return err
}

// Close closes the connection without ending the stream.
func (c *Conn) Close() error { return c.nc.Close() }

// End sends the stream's closing tag and closes the connection.
func (c *Conn) End() error {
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.nc.Write([]byte("</stream:stream>"))
	return c.nc.Close()
}

// SetDeadline bounds reads and writes.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// ReleaseBuffer drops the read buffer of an idle connection; the next read
// allocates a small one.
func (c *Conn) ReleaseBuffer() {
	if c.r == c.w {
		c.buf, c.r, c.w = nil, 0, 0
	}
}

// Next returns the next top-level unit and its kind. The bytes are valid
// until the following call. A stream error or the end of the stream is
// returned as a *ServerError.
func (c *Conn) Next() ([]byte, int, error) {
	for {
		end, start, kind, err := split(c.buf[c.r:c.w])
		if err != nil {
			return nil, 0, err
		}
		if end > 0 {
			u := c.buf[c.r+start : c.r+end]
			c.r += end
			if kind == unitEnd || (kind == unitElement && localName(u) == "error" && bytes.HasPrefix(u, []byte("<stream:"))) {
				return u, kind, &ServerError{Unit: string(u)}
			}
			return u, kind, nil
		}
		if c.r == c.w {
			c.r, c.w = 0, 0
		}
		if c.w == len(c.buf) {
			if c.r > 0 {
				c.w = copy(c.buf, c.buf[c.r:c.w])
				c.r = 0
			} else {
				if len(c.buf) >= maxUnit {
					return nil, 0, fmt.Errorf("a stanza larger than %d bytes", maxUnit)
				}
				nb := make([]byte, max(2*len(c.buf), 4096))
				c.w = copy(nb, c.buf[c.r:c.w])
				c.r, c.buf = 0, nb
			}
		}
		n, err := c.nc.Read(c.buf[c.w:])
		c.w += n
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) {
				return nil, 0, fmt.Errorf("server closed the connection: %w", err)
			}
			return nil, 0, err
		}
	}
}

// Login says whom to log in as, where and how.
type Login struct {
	Addr      string // host:port, loopback
	Source    string // local IP to dial from, "" for any
	Domain    string
	User      string
	Password  string
	Resource  string
	TLS       bool   // STARTTLS (required when true)
	Mechanism string // SCRAM-SHA-1, SCRAM-SHA-256 or PLAIN
	Presence  bool   // send initial presence after binding
	Timeout   time.Duration
	keys      *xmpptest.KeyCache
}

// Dial connects, negotiates TLS and SASL and binds a resource with the
// test client (internal/xmpptest), then reads the stream with its own
// lean splitter (Next) and, if asked, sends initial presence. The whole
// negotiation is bounded by l.Timeout.
func Dial(ctx context.Context, l Login) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	d := net.Dialer{}
	if l.Source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(l.Source)}
	}
	nc, err := d.DialContext(ctx, "tcp", l.Addr)
	if err != nil {
		return nil, err
	}
	nc, full, err := xmpptest.Negotiate(ctx, nc, xmpptest.Options{
		Domain: l.Domain, User: l.User, Password: l.Password, Resource: l.Resource,
		NoTLS: !l.TLS, Mechanism: l.Mechanism, Timeout: l.Timeout, Keys: l.keys,
		// No ALPN: the servers compared need not know XEP-0368's.
		TLSConfig: &tls.Config{ServerName: l.Domain, InsecureSkipVerify: true},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.User, err)
	}
	if _, ok := nc.(*tls.Conn); l.TLS && !ok {
		nc.Close()
		return nil, fmt.Errorf("%s: server offers no STARTTLS", l.User)
	}
	c := &Conn{nc: nc, buf: make([]byte, 4096), JID: full}
	// The legacy session IQ (RFC 3921 §3) is not sent: parley, ejabberd
	// and Prosody all mark it optional or do not ask for it.
	if l.Presence {
		if err := c.Write([]byte("<presence/>")); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}
