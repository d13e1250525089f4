package xmpptest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"parley/internal/xmlstream"
)

// Options say whom to log in as and how.
type Options struct {
	// Domain is the stream's 'to' and the TLS server name; default
	// "localhost".
	Domain   string
	User     string
	Password string
	// Resource to bind; empty asks the server to generate one.
	Resource string
	// DirectTLS starts with a TLS handshake (XEP-0368) instead of STARTTLS.
	DirectTLS bool
	// NoTLS skips STARTTLS even when offered (plaintext authentication on
	// loopback, or to test that the server refuses it).
	NoTLS bool
	// Mechanism is the SASL mechanism; default SCRAM-SHA-256. It is used
	// even if the server does not offer it, so tests can see the refusal.
	Mechanism string
	// TLSConfig overrides the default, which skips certificate
	// verification (test servers use self-signed certificates) and asks
	// for ALPN "xmpp-client".
	TLSConfig *tls.Config
	// Timeout bounds each negotiation step; default 10s.
	Timeout time.Duration
	// NoBind stops after authentication and the stream restart, before
	// resource binding (to resume a XEP-0198 session instead).
	NoBind bool
	// Keys, if set, keeps SCRAM salted passwords across logins.
	Keys *KeyCache
	// ChannelBinding is the binding type a -PLUS Mechanism binds to
	// (TLSExporter, TLSServerEndPoint), or "y" to tell the server, with
	// a plain SCRAM mechanism, that the client could bind but thinks the
	// server cannot (RFC 5802 §6). Empty with a -PLUS mechanism means
	// TLSExporter.
	ChannelBinding string
	// SASL2, if set, authenticates with XEP-0388 (and may bind with
	// XEP-0386) instead of RFC 6120 SASL.
	SASL2 *SASL2
	// ChannelBindingData, if set, is sent instead of the connection's
	// (to see the server refuse a channel that is not its own).
	ChannelBindingData []byte
}

func (o *Options) defaults() {
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.Mechanism == "" {
		o.Mechanism = ScramSHA256
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
}

func (o *Options) tlsConfig() *tls.Config {
	if o.TLSConfig != nil {
		return o.TLSConfig
	}
	return &tls.Config{ServerName: o.Domain, InsecureSkipVerify: true, NextProtos: []string{"xmpp-client"}}
}

// AuthError is a SASL <failure/> (RFC 6120 §6.5).
type AuthError struct {
	Condition string // e.g. "not-authorized", "encryption-required"
	Text      string
}

func (e *AuthError) Error() string {
	return "xmpptest: SASL failure: " + e.Condition + textSuffix(e.Text)
}

// StreamError is a stream error received while negotiating (RFC 6120 §4.9).
type StreamError struct {
	Condition string
	Text      string
}

func (e *StreamError) Error() string {
	return "xmpptest: stream error: " + e.Condition + textSuffix(e.Text)
}

func textSuffix(t string) string {
	if t == "" {
		return ""
	}
	return " (" + t + ")"
}

// ErrTimeout is returned by Recv and Expect when nothing (matching)
// arrived in time.
var ErrTimeout = errors.New("xmpptest: timed out")

// Client is a negotiated, bound XMPP session.
type Client struct {
	// JID is the full JID the server bound.
	JID string
	// Features are the stream features offered after authentication.
	Features *xmlstream.Element
	// TLS is the connection's TLS state, or nil without TLS.
	TLS *tls.ConnectionState
	// Offered are the stream features the client authenticated against.
	Offered *xmlstream.Element
	// SSDP tells that the server's SCRAM server-first-message carried a
	// XEP-0474 hash and that it matched what the client was offered (a
	// mismatch fails the login).
	SSDP bool

	success *xmlstream.Element // SASL2's <success/>

	t      transport
	ids    atomic.Uint64
	once   sync.Once // starts the reader
	in     chan read
	closed chan struct{}
	cmu    sync.Once // closes closed

	trailerSent atomic.Bool // we ended our side of the stream
	ended       atomic.Bool // the server ended the stream (or the connection)

	mu      sync.Mutex // guards backlog and err
	backlog []*xmlstream.Element
	err     error
}

type read struct {
	el  *xmlstream.Element
	err error
}

// Dial connects to addr (host:port), negotiates TLS and SASL and binds a
// resource.
func Dial(ctx context.Context, addr string, o Options) (*Client, error) {
	o.defaults()
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return DialConn(ctx, conn, o)
}

// DialConn is Dial over a connection the caller opened, such as an
// in-memory one from Listener.Dial; the Client owns conn from then on
// (it is closed if negotiation fails).
func DialConn(ctx context.Context, conn net.Conn, o Options) (*Client, error) {
	c, err := negotiateConn(ctx, conn, o)
	if err != nil {
		return nil, err
	}
	c.startReading()
	return c, nil
}

// negotiateConn is DialConn up to a bound resource.
func negotiateConn(ctx context.Context, conn net.Conn, o Options) (*Client, error) {
	o.defaults()
	c := newClient(newTCP(conn))
	if o.DirectTLS {
		dctx, cancel := context.WithTimeout(ctx, o.Timeout)
		tc, err := c.tcp().startTLS(dctx, o.tlsConfig())
		cancel()
		if err != nil {
			conn.Close()
			return nil, err
		}
		st := tc.ConnectionState()
		c.TLS = &st
	}
	if err := c.negotiate(ctx, o); err != nil {
		c.t.close()
		return nil, err
	}
	return c, nil
}

// Negotiate is DialConn for a caller that reads the stream itself (the
// load generator): it negotiates on conn as DialConn does and returns the
// connection to go on with (the TLS one after STARTTLS), without
// deadlines, and the bound JID. Bytes the server sent after the bind
// result are read from the returned connection first.
func Negotiate(ctx context.Context, conn net.Conn, o Options) (net.Conn, string, error) {
	c, err := negotiateConn(ctx, conn, o)
	if err != nil {
		return nil, "", err
	}
	t := c.tcp()
	t.conn.SetDeadline(time.Time{})
	if rest := t.r.Buffered(); len(rest) > 0 {
		return &prefixConn{Conn: t.conn, prefix: slices.Clone(rest)}, c.JID, nil
	}
	return t.conn, c.JID, nil
}

// prefixConn reads prefix before the connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// DialWebSocket is Dial over RFC 7395; url is ws:// or wss://.
func DialWebSocket(ctx context.Context, url string, o Options) (*Client, error) {
	o.defaults()
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: o.tlsConfig()}}
	conn, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{Subprotocols: []string{"xmpp"}, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	if conn.Subprotocol() != "xmpp" {
		conn.CloseNow()
		return nil, fmt.Errorf("xmpptest: server chose subprotocol %q, not xmpp", conn.Subprotocol())
	}
	conn.SetReadLimit(int64(clientLimits.MaxStanza))
	wctx, wcancel := context.WithCancel(context.Background())
	c := newClient(&wsTransport{conn: conn, ctx: wctx, cancel: wcancel})
	if err := c.negotiate(ctx, o); err != nil {
		c.t.close()
		return nil, err
	}
	c.startReading()
	return c, nil
}

// DialRaw connects to addr and, with tlsConfig set, completes a TLS
// handshake first; the caller speaks whatever bytes it likes.
func DialRaw(ctx context.Context, addr string, tlsConfig *tls.Config) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || tlsConfig == nil {
		return conn, err
	}
	tc := tls.Client(conn, tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// InsecureTLS is the TLS configuration for test servers: no verification,
// ALPN xmpp-client (XEP-0368).
func InsecureTLS(domain string) *tls.Config {
	o := Options{Domain: domain}
	o.defaults()
	return o.tlsConfig()
}

func newClient(t transport) *Client {
	return &Client{t: t, in: make(chan read, 64), closed: make(chan struct{})}
}

func (c *Client) tcp() *tcpTransport { return c.t.(*tcpTransport) }

// negotiate runs RFC 6120 §4-§7 up to a bound resource.
func (c *Client) negotiate(ctx context.Context, o Options) error {
	// Cancelling ctx ends the negotiation by closing the connection.
	stop := context.AfterFunc(ctx, func() { c.t.close() })
	defer stop()
	step := func() time.Time { return time.Now().Add(o.Timeout) }

	features, err := c.openStream(o.Domain, step())
	if err != nil {
		return err
	}
	if tcp, ok := c.t.(*tcpTransport); ok && c.TLS == nil && !o.NoTLS && features.Child("starttls", NSTLS) != nil {
		if err := c.t.write([]byte("<starttls xmlns='" + NSTLS + "'/>")); err != nil {
			return err
		}
		el, err := c.nextElement(step())
		if err != nil {
			return err
		}
		if el.Name != "proceed" || el.Space != NSTLS {
			return fmt.Errorf("xmpptest: STARTTLS answered with <%s xmlns='%s'/>", el.Name, el.Space)
		}
		sctx, cancel := context.WithDeadline(ctx, step())
		tc, err := tcp.startTLS(sctx, o.tlsConfig())
		cancel()
		if err != nil {
			return err
		}
		st := tc.ConnectionState()
		c.TLS = &st
		if features, err = c.openStream(o.Domain, step()); err != nil {
			return err
		}
	}
	c.Offered = features
	if o.SASL2 != nil {
		if err := c.authenticate2(o, step); err != nil {
			return err
		}
		if c.success.Child("resumed", "urn:xmpp:sm:3") != nil || c.success.Child("bound", NSBind2) != nil || o.NoBind {
			return nil
		}
		return c.bind(o.Resource, step())
	}
	if err := c.authenticate(o, step); err != nil {
		return err
	}
	c.t.restart()
	if c.Features, err = c.openStream(o.Domain, step()); err != nil {
		return err
	}
	if c.Features.Child("bind", NSBind) == nil {
		return errors.New("xmpptest: server offers no resource binding")
	}
	if o.NoBind {
		return nil
	}
	return c.bind(o.Resource, step())
}

// startReading reads whatever arrives from now on, as a socket's buffer
// would take it, also over an unbuffered in-memory pipe (Listener).
func (c *Client) startReading() { c.once.Do(func() { go c.readLoop() }) }

// openStream sends a stream header and reads the server's header and
// features.
func (c *Client) openStream(domain string, deadline time.Time) (*xmlstream.Element, error) {
	if err := c.t.open(domain); err != nil {
		return nil, err
	}
	tok, err := c.t.next(deadline)
	if err != nil {
		return nil, err
	}
	if tok.Kind != xmlstream.StreamStart {
		if tok.Kind == xmlstream.StreamElement {
			if se := asStreamError(tok.El); se != nil {
				return nil, se
			}
		}
		return nil, fmt.Errorf("xmpptest: expected a stream header, got %v", tok.Kind)
	}
	f, err := c.nextElement(deadline)
	if err != nil {
		return nil, err
	}
	if f.Name != "features" || f.Space != NSStream {
		return nil, fmt.Errorf("xmpptest: expected stream features, got <%s xmlns='%s'/>", f.Name, f.Space)
	}
	return f, nil
}

// nextElement reads one top-level element during negotiation; a stream
// error or the end of the stream is returned as an error.
func (c *Client) nextElement(deadline time.Time) (*xmlstream.Element, error) {
	tok, err := c.t.next(deadline)
	if err != nil {
		return nil, err
	}
	switch tok.Kind {
	case xmlstream.StreamEnd:
		return nil, io.EOF
	case xmlstream.StreamStart:
		return nil, errors.New("xmpptest: unexpected stream header")
	}
	if se := asStreamError(tok.El); se != nil {
		return nil, se
	}
	return tok.El, nil
}

func (c *Client) authenticate(o Options, step func() time.Time) error {
	initial, sc, err := c.initialResponse(o, false)
	if err != nil {
		return err
	}
	if err := c.t.write([]byte("<auth xmlns='" + NSSASL + "' mechanism='" + xmlEscape(o.Mechanism) + "'>" +
		base64.StdEncoding.EncodeToString(initial) + "</auth>")); err != nil {
		return err
	}
	for challenges := 0; ; challenges++ {
		el, err := c.saslNext(step(), NSSASL)
		if err != nil {
			return err
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(el.Text))
		if err != nil {
			return fmt.Errorf("xmpptest: SASL %s is not base64: %w", el.Name, err)
		}
		switch el.Name {
		case "success":
			if sc != nil {
				// RFC 6120 §6.3.10: the SCRAM final message rides in <success/>.
				return sc.verify(data)
			}
			return nil
		case "challenge":
			if sc == nil || challenges > 0 {
				return errors.New("xmpptest: unexpected SASL challenge")
			}
			if err := c.answerChallenge(sc, data, NSSASL); err != nil {
				return err
			}
		default:
			return fmt.Errorf("xmpptest: unexpected <%s/> during SASL", el.Name)
		}
	}
}

// saslNext reads the server's next element of a SASL exchange in
// namespace ns (SASL, or SASL2 of XEP-0388): one in another namespace is
// an error, and a <failure/> an *AuthError with its condition (the child
// in the SASL namespace, RFC 6120 §6.5; XEP-0388 §2.6 keeps it) and text.
func (c *Client) saslNext(deadline time.Time, ns string) (*xmlstream.Element, error) {
	el, err := c.nextElement(deadline)
	if err != nil {
		return nil, err
	}
	if el.Space != ns {
		return nil, fmt.Errorf("xmpptest: unexpected <%s xmlns='%s'/> during SASL", el.Name, el.Space)
	}
	if el.Name != "failure" {
		return el, nil
	}
	ae := &AuthError{Text: el.ChildText("text", ns)}
	for _, ch := range el.Children {
		if ch.Space == NSSASL && ch.Name != "text" {
			ae.Condition = ch.Name
		}
	}
	return nil, ae
}

// initialResponse is the initial response of PLAIN or of a SCRAM
// mechanism; for SCRAM it also returns the exchange that answers the
// server's challenge, in XEP-0388's profile when sasl2 is set.
func (c *Client) initialResponse(o Options, sasl2 bool) ([]byte, *scramClient, error) {
	if o.Mechanism == Plain {
		return []byte("\x00" + o.User + "\x00" + o.Password), nil, nil
	}
	sc, err := newScram(o.Mechanism, o.User, o.Password, o.Keys)
	if err != nil {
		return nil, nil, err
	}
	if err := c.bindChannel(sc, o); err != nil {
		return nil, nil, err
	}
	sc.sasl2 = sasl2
	return sc.first(), sc, nil
}

// answerChallenge answers a SCRAM server-first-message with the
// client-final-message, or aborts the exchange (in namespace ns, SASL or
// SASL2) when the message does not verify.
func (c *Client) answerChallenge(sc *scramClient, serverFirst []byte, ns string) error {
	resp, err := sc.final(serverFirst)
	if err == nil {
		err = c.checkSSDP(sc, serverFirst)
	}
	if err != nil {
		c.t.write([]byte("<abort xmlns='" + ns + "'/>"))
		return err
	}
	return c.t.write([]byte("<response xmlns='" + ns + "'>" +
		base64.StdEncoding.EncodeToString(resp) + "</response>"))
}

// bindChannel sets the gs2 header and binding data of a SCRAM exchange.
func (c *Client) bindChannel(sc *scramClient, o Options) error {
	if o.ChannelBinding == "y" {
		sc.gs2 = "y,,"
		return nil
	}
	if !strings.HasSuffix(o.Mechanism, "-PLUS") {
		return nil
	}
	typ := o.ChannelBinding
	if typ == "" {
		typ = TLSExporter
	}
	sc.gs2 = "p=" + typ + ",,"
	sc.cbData = o.ChannelBindingData
	if sc.cbData == nil {
		var err error
		if sc.cbData, err = ChannelBindingData(c.TLS, typ); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) bind(resource string, deadline time.Time) error {
	payload := "<bind xmlns='" + NSBind + "'/>"
	if resource != "" {
		payload = "<bind xmlns='" + NSBind + "'><resource>" + xmlEscape(resource) + "</resource></bind>"
	}
	if err := c.t.write([]byte("<iq type='set' id='bind'>" + payload + "</iq>")); err != nil {
		return err
	}
	el, err := c.nextElement(deadline)
	if err != nil {
		return err
	}
	if el.Name != "iq" || el.Get("id") != "bind" {
		return fmt.Errorf("xmpptest: unexpected answer to bind: %s", el)
	}
	if el.Get("type") != "result" {
		return fmt.Errorf("xmpptest: bind failed: %s", el)
	}
	b := el.Child("bind", NSBind)
	if b == nil || b.ChildText("jid", NSBind) == "" {
		return fmt.Errorf("xmpptest: bind result without a JID: %s", el)
	}
	c.JID = b.ChildText("jid", NSBind)
	return nil
}

// Send writes raw XML to the stream as is.
func (c *Client) Send(raw string) error { return c.t.write([]byte(raw)) }

// SendPresence sends initial presence (RFC 6121 §4.2).
func (c *Client) SendPresence() error { return c.Send("<presence/>") }

// Bare is the client's bare JID.
func (c *Client) Bare() string {
	b, _, _ := strings.Cut(c.JID, "/")
	return b
}

// Recv returns the next top-level element: a stanza, or a stream error
// (see StreamErrorCondition). The end of the stream is io.EOF.
func (c *Client) Recv(timeout time.Duration) (*xmlstream.Element, error) {
	c.mu.Lock()
	if len(c.backlog) > 0 {
		el := c.backlog[0]
		c.backlog = c.backlog[1:]
		c.mu.Unlock()
		return el, nil
	}
	c.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	return c.recv(timer.C)
}

func (c *Client) recv(timeout <-chan time.Time) (*xmlstream.Element, error) {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	c.once.Do(func() { go c.readLoop() })
	select {
	case r, ok := <-c.in:
		if !ok {
			r.err = net.ErrClosed
		}
		if r.err != nil {
			c.mu.Lock()
			c.err = r.err
			c.mu.Unlock()
			return nil, r.err
		}
		return r.el, nil
	case <-timeout:
		return nil, ErrTimeout
	}
}

// Expect returns the first element, from the backlog or the stream, for
// which match is true; the others are kept in the backlog for later Recv
// and Expect calls.
func (c *Client) Expect(timeout time.Duration, match func(*xmlstream.Element) bool) (*xmlstream.Element, error) {
	c.mu.Lock()
	for i, el := range c.backlog {
		if match(el) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			c.mu.Unlock()
			return el, nil
		}
	}
	c.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		el, err := c.recv(timer.C)
		if err != nil {
			return nil, fmt.Errorf("%w (skipped: %s)", err, c.backlogSummary())
		}
		if match(el) {
			return el, nil
		}
		c.mu.Lock()
		c.backlog = append(c.backlog, el)
		c.mu.Unlock()
	}
}

func (c *Client) backlogSummary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.backlog) == 0 {
		return "nothing"
	}
	var parts []string
	for _, el := range c.backlog {
		s := el.String()
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// IQ sends an IQ of type typ ("get" or "set") to 'to' (empty: the
// account) with payload and returns the answer (type result or error).
func (c *Client) IQ(timeout time.Duration, typ, to, payload string) (*xmlstream.Element, error) {
	id := "q" + strconv.FormatUint(c.ids.Add(1), 10)
	attrs := " type='" + xmlEscape(typ) + "' id='" + id + "'"
	if to != "" {
		attrs += " to='" + xmlEscape(to) + "'"
	}
	if err := c.Send("<iq" + attrs + ">" + payload + "</iq>"); err != nil {
		return nil, err
	}
	return c.Expect(timeout, func(el *xmlstream.Element) bool {
		return el.Name == "iq" && el.Get("id") == id && (el.Get("type") == "result" || el.Get("type") == "error")
	})
}

func (c *Client) readLoop() {
	defer close(c.in)
	for {
		tok, err := c.t.next(time.Time{})
		var r read
		switch {
		case err != nil:
			r.err = err
		case tok.Kind == xmlstream.StreamEnd:
			r.err = io.EOF
			// RFC 6120 §4.4: answer the server's closing tag with ours and
			// close, as a client does (a WebSocket server otherwise waits
			// for the close handshake, RFC 7395 §3.6).
			c.ended.Store(true)
			if c.trailerSent.CompareAndSwap(false, true) {
				c.t.write(c.t.trailer())
			}
			c.t.close()
		case tok.Kind == xmlstream.StreamElement:
			r.el = tok.El
		default:
			continue
		}
		if r.err != nil {
			c.ended.Store(true)
		}
		select {
		case c.in <- r:
		case <-c.closed:
			return
		}
		if r.err != nil {
			return
		}
	}
}

// Close ends the stream (RFC 6120 §4.4): it sends the closing tag, waits
// briefly for the server's, and closes the connection.
func (c *Client) Close() error {
	if c.ended.Load() {
		c.cmu.Do(func() { close(c.closed) })
		c.t.close()
		return nil
	}
	var werr error
	if c.trailerSent.CompareAndSwap(false, true) {
		werr = c.t.write(c.t.trailer())
	}
	if werr == nil {
		deadline := time.After(2 * time.Second)
		for {
			if _, err := c.recv(deadline); err != nil {
				break
			}
		}
	}
	c.cmu.Do(func() { close(c.closed) })
	err := c.t.close()
	if werr != nil && !c.ended.Load() {
		return werr
	}
	if err != nil && (c.ended.Load() || errors.Is(err, net.ErrClosed)) {
		return nil
	}
	return err
}

// Kill closes the connection without ending the stream, as a crashed
// client would.
func (c *Client) Kill() error {
	c.cmu.Do(func() { close(c.closed) })
	return c.t.close()
}

// StreamErrorCondition returns the defined condition of a stream error
// element (RFC 6120 §4.9.3), or "" if el is not a stream error.
func StreamErrorCondition(el *xmlstream.Element) string {
	if se := asStreamError(el); se != nil {
		return se.Condition
	}
	return ""
}

func asStreamError(el *xmlstream.Element) *StreamError {
	if el == nil || el.Name != "error" || el.Space != NSStream {
		return nil
	}
	se := &StreamError{Text: el.ChildText("text", NSStreams)}
	for _, ch := range el.Children {
		if ch.Space == NSStreams && ch.Name != "text" {
			se.Condition = ch.Name
		}
	}
	return se
}

// StanzaErrorCondition returns the defined condition of a stanza's
// <error/> (RFC 6120 §8.3.3), or "".
func StanzaErrorCondition(el *xmlstream.Element) string {
	e := el.Child("error", "")
	if e == nil {
		return ""
	}
	for _, ch := range e.Children {
		if ch.Space == NSStanzas && ch.Name != "text" {
			return ch.Name
		}
	}
	return ""
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", "\"", "&quot;")

func xmlEscape(s string) string { return xmlEscaper.Replace(s) }
