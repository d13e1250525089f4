package c2s

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"parley/internal/clock"
	"parley/internal/stanza"
	"parley/internal/transport"
	"parley/internal/xmlstream"
)

// wsFraming is RFC 7395: every WebSocket text message holds exactly one
// element; <open/> and <close/> replace the stream tags.
type wsFraming struct {
	conn     *websocket.Conn
	guard    *frameGuard
	ctx      context.Context
	cancel   context.CancelFunc
	limits   xmlstream.Limits // the configured ones
	authed   atomic.Bool      // limits apply; else the pre-authentication ones
	lastRead *atomic.Int64
	clock    clock.Clock
	once     sync.Once // close starts the handshake once
}

// authenticated lifts the pre-authentication limit on messages, frames
// and elements.
func (f *wsFraming) authenticated() {
	max := int64(f.limits.MaxStanza)
	f.conn.SetReadLimit(max)
	f.guard.limit.Store(max)
	f.authed.Store(true)
}

func (f *wsFraming) next() (xmlstream.Token, error) {
	typ, data, err := f.conn.Read(f.ctx)
	if err != nil {
		if websocket.CloseStatus(err) == websocket.StatusMessageTooBig || errors.Is(err, websocket.ErrMessageTooBig) ||
			errors.Is(err, errFrameTooLarge) {
			return xmlstream.Token{}, stanza.ErrStreamPolicyViolation.WithText("stanza too large")
		}
		return xmlstream.Token{}, err
	}
	f.lastRead.Store(f.clock.Now().Unix())
	if typ != websocket.MessageText {
		return xmlstream.Token{}, stanza.ErrStreamBadFormat.WithText("binary frames are not XMPP (RFC 7395 §3.2)")
	}
	// Stanzas may omit xmlns='jabber:client': it is the stream's default.
	lim := f.limits
	if !f.authed.Load() {
		lim = preAuth(lim)
	}
	return xmlstream.ParseFrame(data, lim, xmlstream.NewScope(stanza.NSClient))
}

func (f *wsFraming) header(id, from, to, lang string) []byte {
	var b strings.Builder
	b.WriteString("<open xmlns='" + nsFramingWS + "' id='" + id + "' from='" + xmlEscape(from) + "'")
	if to != "" {
		b.WriteString(" to='" + xmlEscape(to) + "'")
	}
	b.WriteString(" version='1.0' xml:lang='" + xmlEscape(lang) + "'/>")
	return []byte(b.String())
}

func (f *wsFraming) features(inner []byte) []byte {
	b := append([]byte("<stream:features xmlns:stream='"+streamsNS+"'>"), inner...)
	return append(b, "</stream:features>"...)
}

func (f *wsFraming) streamError(e *stanza.StreamError) []byte {
	return appendStreamError([]byte("<stream:error xmlns:stream='"+streamsNS+"'>"), e)
}

func (f *wsFraming) trailer() []byte { return []byte("<close xmlns='" + nsFramingWS + "'/>") }

// writeFrames sends one message per element. A stanza forwarded from a TCP
// client may lack its namespace declaration, which a WebSocket frame, being
// a document of its own, must carry.
func (f *wsFraming) writeFrames(bufs [][]byte) error {
	for _, b := range bufs {
		if kindOfRaw(b) != 0 && !hasXMLNS(b) {
			b = xmlstream.SetAttr(b, "xmlns", stanza.NSClient)
		}
		ctx, cancel := context.WithTimeout(f.ctx, writeTimeout)
		err := f.conn.Write(ctx, websocket.MessageText, b)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// hasXMLNS reports whether the root start tag declares a default namespace.
func hasXMLNS(b []byte) bool {
	end := bytes.IndexByte(b, '>')
	if end < 0 {
		return false
	}
	tag := b[:end]
	return bytes.Contains(tag, []byte(" xmlns=")) || bytes.Contains(tag, []byte("\txmlns=")) || bytes.Contains(tag, []byte("\nxmlns="))
}

func (f *wsFraming) restart() {}

// close starts the WebSocket closing handshake (RFC 6455 §7) without
// waiting for it: a client that never answers must not hold up the session
// or a server shutdown for the library's five-second wait.
func (f *wsFraming) close() error {
	f.once.Do(func() {
		go func() {
			f.conn.Close(websocket.StatusNormalClosure, "")
			f.cancel()
		}()
	})
	return nil
}

// WebSocket returns the RFC 7395 endpoint. plaintextOK lets loopback
// clients authenticate over plain HTTP (benchmarks, local development);
// trusted lists proxies whose X-Forwarded-Proto: https marks the client's
// connection as encrypted and whose X-Forwarded-For names the client's
// address (transport.ClientAddr); from anyone else both are ignored.
func (s *Server) WebSocket(plaintextOK bool, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Frames are checked as they arrive: before authentication
		// nothing larger than preAuthStanza (issue 10 item 7).
		guard := &frameGuard{}
		guard.limit.Store(preAuthStanza)
		conn, err := websocket.Accept(guardWriter{w, guard}, r, &websocket.AcceptOptions{
			Subprotocols: []string{"xmpp"},
			// Authentication is SASL inside the stream, never a cookie, so a
			// page from another origin gains nothing the user did not type
			// in: web clients hosted elsewhere are allowed.
			InsecureSkipVerify: true,
		})
		if err != nil {
			return // Accept has answered the request
		}
		if conn.Subprotocol() != "xmpp" {
			conn.Close(websocket.StatusPolicyViolation, "the xmpp subprotocol is required (RFC 7395 §3.1)")
			return
		}
		lim := s.cfg.Limits
		if lim.MaxStanza == 0 {
			lim.MaxStanza = xmlstream.DefaultLimits().MaxStanza
		}
		conn.SetReadLimit(preAuthStanza) // until authenticated
		// Per-address limits count the client, which a trusted proxy
		// names in X-Forwarded-For; the security of the hop is the peer's.
		peer := remoteAddr(r).Addr()
		ss := s.newSession(transport.ClientAddr(r.Header, peer, trusted).String(), "websocket")
		if ss == nil {
			conn.Close(websocket.StatusTryAgainLater, "too many connections")
			return
		}
		ss.secure = r.TLS != nil || (transport.Trusted(peer, trusted) && r.Header.Get("X-Forwarded-Proto") == "https")
		ss.plaintextOK = plaintextOK && peer.IsLoopback()
		ctx, cancel := context.WithCancel(context.Background())
		ss.fr = &wsFraming{conn: conn, guard: guard, ctx: ctx, cancel: cancel,
			limits: lim, lastRead: &ss.lastRead, clock: s.cfg.Clock}
		s.runSession(ss) // the handler goroutine is the session's reader
	})
}

func remoteAddr(r *http.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
