package xmpptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"

	"parley/internal/xmlstream"
)

// Namespaces the client speaks.
const (
	NSClient  = "jabber:client"
	NSStream  = "http://etherx.jabber.org/streams"
	NSTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	NSStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSStreams = "urn:ietf:params:xml:ns:xmpp-streams"
	NSFraming = xmlstream.NSFraming
)

// clientLimits are generous: the client trusts the server under test to
// send what it means to, and tests want to see it.
var clientLimits = xmlstream.Limits{MaxStanza: 16 << 20, MaxDepth: 64, MaxAttrs: 256}

// transport frames a stream: TCP (one XML document per stream) or
// WebSocket (one element per message, RFC 7395).
type transport interface {
	// open starts a stream to domain.
	open(domain string) error
	write(b []byte) error
	// next reads one token; deadline bounds it (zero: no bound).
	next(deadline time.Time) (xmlstream.Token, error)
	// restart expects a new stream after STARTTLS or SASL success.
	restart()
	// trailer is what ends the stream.
	trailer() []byte
	close() error
}

// tcpTransport is RFC 6120 over TCP, optionally inside TLS.
type tcpTransport struct {
	conn net.Conn
	r    *xmlstream.Reader
	wmu  sync.Mutex // serialises writes
}

func newTCP(conn net.Conn) *tcpTransport {
	return &tcpTransport{conn: conn, r: xmlstream.NewReader(conn, clientLimits)}
}

func (t *tcpTransport) open(domain string) error {
	return t.write([]byte("<?xml version='1.0'?><stream:stream xmlns='" + NSClient +
		"' xmlns:stream='" + NSStream + "' to='" + xmlEscape(domain) + "' version='1.0' xml:lang='en'>"))
}

func (t *tcpTransport) write(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := t.conn.Write(b)
	return err
}

func (t *tcpTransport) next(deadline time.Time) (xmlstream.Token, error) {
	t.conn.SetReadDeadline(deadline)
	return t.r.Next()
}

func (t *tcpTransport) restart() { t.r.Reset(t.conn) }

// startTLS upgrades the connection after <proceed/>.
func (t *tcpTransport) startTLS(ctx context.Context, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(t.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("xmpptest: TLS handshake: %w", err)
	}
	t.conn = tc
	t.r.Reset(tc)
	return tc, nil
}

func (t *tcpTransport) trailer() []byte { return []byte("</stream:stream>") }
func (t *tcpTransport) close() error    { return t.conn.Close() }

// wsTransport is RFC 7395.
type wsTransport struct {
	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
}

func (t *wsTransport) open(domain string) error {
	return t.write([]byte("<open xmlns='" + NSFraming + "' to='" + xmlEscape(domain) + "' version='1.0' xml:lang='en'/>"))
}

func (t *wsTransport) write(b []byte) error {
	ctx, cancel := context.WithTimeout(t.ctx, 30*time.Second)
	defer cancel()
	return t.conn.Write(ctx, websocket.MessageText, b)
}

// next parses one message. A timeout closes the WebSocket (that is how
// coder/websocket cancels a read), so a bounded read is the last one on a
// timeout; the Client only bounds reads during negotiation, where a
// timeout ends the connection anyway.
func (t *wsTransport) next(deadline time.Time) (xmlstream.Token, error) {
	ctx := t.ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	typ, data, err := t.conn.Read(ctx)
	if err != nil {
		return xmlstream.Token{}, err
	}
	if typ != websocket.MessageText {
		return xmlstream.Token{}, errors.New("xmpptest: binary WebSocket message")
	}
	return xmlstream.ParseFrame(data, clientLimits, xmlstream.NewScope(NSClient))
}

func (t *wsTransport) restart() {}
func (t *wsTransport) trailer() []byte {
	return []byte("<close xmlns='" + NSFraming + "'/>")
}

func (t *wsTransport) close() error {
	defer t.cancel()
	return t.conn.Close(websocket.StatusNormalClosure, "")
}
