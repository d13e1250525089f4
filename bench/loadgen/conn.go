package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
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

// nextElement skips stream headers and returns the next element.
func (c *Conn) nextElement() ([]byte, error) {
	for {
		u, kind, err := c.Next()
		if err != nil {
			return nil, err
		}
		if kind == unitElement {
			return u, nil
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
	keys      *keyCache
}

func (l *Login) header() []byte {
	return []byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='" +
		l.Domain + "' version='1.0' xml:lang='en'>")
}

// Dial connects, negotiates TLS and SASL, binds a resource and, if asked,
// sends initial presence. The whole negotiation is bounded by l.Timeout.
func Dial(ctx context.Context, l Login) (*Conn, error) {
	d := net.Dialer{Timeout: l.Timeout}
	if l.Source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(l.Source)}
	}
	nc, err := d.DialContext(ctx, "tcp", l.Addr)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, buf: make([]byte, 4096)}
	nc.SetDeadline(time.Now().Add(l.Timeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if err := c.negotiate(l); err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", l.User, err)
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *Conn) open(l *Login) ([]byte, error) {
	if err := c.Write(l.header()); err != nil {
		return nil, err
	}
	f, err := c.nextElement()
	if err != nil {
		return nil, err
	}
	if localName(f) != "features" {
		return nil, fmt.Errorf("expected stream features, got %.200s", f)
	}
	return f, nil
}

func (c *Conn) negotiate(l Login) error {
	f, err := c.open(&l)
	if err != nil {
		return err
	}
	if l.TLS {
		if !bytes.Contains(f, []byte("<starttls")) {
			return errors.New("server offers no STARTTLS")
		}
		if err := c.Write([]byte("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")); err != nil {
			return err
		}
		el, err := c.nextElement()
		if err != nil {
			return err
		}
		if localName(el) != "proceed" {
			return fmt.Errorf("STARTTLS answered with %.200s", el)
		}
		tc := tls.Client(c.nc, &tls.Config{ServerName: l.Domain, InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c.nc, c.r, c.w = tc, 0, 0
		if f, err = c.open(&l); err != nil {
			return err
		}
	}
	if !bytes.Contains(f, []byte(">"+l.Mechanism+"<")) {
		return fmt.Errorf("server does not offer %s: %.300s", l.Mechanism, f)
	}
	if err := c.auth(&l); err != nil {
		return err
	}
	c.r, c.w = 0, 0 // RFC 6120 §6.4.6: a new stream; nothing was pipelined
	if f, err = c.open(&l); err != nil {
		return err
	}
	if !bytes.Contains(f, []byte("<bind")) {
		return errors.New("server offers no resource binding")
	}
	if err := c.Write([]byte("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
		l.Resource + "</resource></bind></iq>")); err != nil {
		return err
	}
	for {
		el, err := c.nextElement()
		if err != nil {
			return err
		}
		if localName(el) != "iq" || attr(el, "id") != "bind1" {
			continue
		}
		if attr(el, "type") != "result" {
			return fmt.Errorf("bind failed: %.300s", el)
		}
		c.JID = string(childText(el, "jid"))
		if c.JID == "" {
			return fmt.Errorf("bind result without a JID: %.300s", el)
		}
		break
	}
	// The legacy session IQ (RFC 3921 §3) is not sent: parley, ejabberd
	// and Prosody all mark it optional or do not ask for it.
	if l.Presence {
		return c.Write([]byte("<presence/>"))
	}
	return nil
}

func (c *Conn) auth(l *Login) error {
	var initial []byte
	var sc *scram
	if l.Mechanism == "PLAIN" {
		initial = []byte("\x00" + l.User + "\x00" + l.Password)
	} else {
		var err error
		if sc, err = newScram(l.Mechanism, l.User, l.Password, l.keys); err != nil {
			return err
		}
		initial = sc.clientFirst()
	}
	if err := c.Write([]byte("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + l.Mechanism + "'>" +
		base64.StdEncoding.EncodeToString(initial) + "</auth>")); err != nil {
		return err
	}
	for {
		el, err := c.nextElement()
		if err != nil {
			return err
		}
		data, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(childOrText(el))))
		switch localName(el) {
		case "failure":
			return fmt.Errorf("SASL failure: %.300s", el)
		case "success":
			if sc != nil {
				return sc.verify(data)
			}
			return nil
		case "challenge":
			if sc == nil {
				return errors.New("unexpected SASL challenge")
			}
			resp, err := sc.clientFinal(data)
			if err != nil {
				return err
			}
			if err := c.Write([]byte("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
				base64.StdEncoding.EncodeToString(resp) + "</response>")); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected %.200s during SASL", el)
		}
	}
}

// childOrText is the text content of a leaf element.
func childOrText(el []byte) []byte {
	gt, ok := tagEnd(el, 1)
	if !ok || el[gt-1] == '/' {
		return nil
	}
	e := bytes.IndexByte(el[gt+1:], '<')
	if e < 0 {
		return nil
	}
	return el[gt+1 : gt+1+e]
}
