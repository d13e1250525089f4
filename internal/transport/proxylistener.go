package transport

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Bounds on PROXY header reading from trusted proxies.
const (
	// ProxyHeaderTimeout is how long a trusted proxy's connection may take
	// to send its first bytes (and a whole header); then it is closed.
	ProxyHeaderTimeout = 10 * time.Second
	// proxyPending bounds connections whose header is being read at once;
	// beyond it, accepting waits.
	proxyPending = 1024
)

// ProxyListener reads the PROXY protocol header (versions 1 and 2) that a
// trusted proxy (HAProxy's send-proxy / send-proxy-v2, nginx's
// proxy_protocol) sends first, so that the connection's RemoteAddr is the
// client's. Only connections from trusted addresses are looked at: from
// anyone else a header is left in the stream as it came, where it is not
// XMPP and ends the stream. From a trusted proxy a header is optional,
// since an XMPP or TLS stream never starts like one: a connection that
// starts otherwise (a client on the same host as the proxy) keeps its own
// address. A malformed header, or none within ProxyHeaderTimeout, closes
// the connection.
type ProxyListener struct {
	net.Listener
	trusted []netip.Prefix
	timeout time.Duration

	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	err       error // why the accept loop ended; read after done closes
}

// NewProxyListener wraps ln (which should retry its own accept errors, as
// Listener does) and starts accepting from it.
func NewProxyListener(ln net.Listener, trusted []netip.Prefix) *ProxyListener {
	l := &ProxyListener{Listener: ln, trusted: trusted, timeout: ProxyHeaderTimeout,
		conns: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *ProxyListener) acceptLoop() {
	sem := make(chan struct{}, proxyPending)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			l.err = err
			l.Close()
			return
		}
		if !l.isTrusted(c.RemoteAddr()) {
			l.deliver(c)
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-l.done:
			c.Close()
			return
		}
		go func() {
			defer func() { <-sem }()
			if pc, err := readProxyHeader(c, l.timeout); err == nil {
				l.deliver(pc)
			} else {
				c.Close()
			}
		}()
	}
}

func (l *ProxyListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *ProxyListener) isTrusted(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && Trusted(ap.Addr(), l.trusted)
}

// Accept returns the next connection, with the client's address as its
// RemoteAddr when a trusted proxy sent one.
func (l *ProxyListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		if l.err != nil && !errors.Is(l.err, net.ErrClosed) {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the wrapped listener.
func (l *ProxyListener) Close() error {
	err := net.ErrClosed
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.Listener.Close()
	})
	return err
}

// readProxyHeader reads c's first bytes; a PROXY header among them gives
// the returned connection its RemoteAddr, other bytes are read again
// from it.
func readProxyHeader(c net.Conn, timeout time.Duration) (net.Conn, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 0, 256)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, 256)...)[:len(buf)]
		}
		k, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if k > 0 {
			src, n, perr := ParseProxyHeader(buf)
			switch {
			case errors.Is(perr, ErrNotProxy):
				return &proxyConn{Conn: c, rest: buf}, nil
			case perr == nil:
				pc := &proxyConn{Conn: c, rest: buf[n:]}
				if src.IsValid() {
					pc.remote = net.TCPAddrFromAddrPort(src)
				}
				return pc, nil
			case !errors.Is(perr, errProxyShort):
				return nil, perr
			}
			if len(buf) >= ProxyHeaderMax {
				return nil, ErrProxyHeader
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

// proxyConn is a connection whose first bytes were read already.
type proxyConn struct {
	net.Conn
	rest   []byte
	remote net.Addr // nil: the connection's own
}

func (c *proxyConn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		if len(c.rest) == 0 {
			c.rest = nil // let the buffer go
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *proxyConn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

// Trusted reports whether ip is in one of the prefixes.
func Trusted(ip netip.Addr, trusted []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// maxForwarded bounds the X-Forwarded-For entries looked at.
const maxForwarded = 32

// ClientAddr is the address of the client of an HTTP request that came
// from peer: X-Forwarded-For is believed only when peer is a trusted proxy,
// and then read from the right (the entry the nearest proxy added) past
// entries that are trusted proxies themselves; the first one that is not
// is the client. Anything unparseable, or a header from an untrusted peer,
// leaves peer.
func ClientAddr(h http.Header, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	peer = peer.Unmap()
	if !Trusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i, seen := len(hops)-1, 0; i >= 0 && seen < maxForwarded; i, seen = i-1, seen+1 {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil || a.Zone() != "" {
			break
		}
		client = a.Unmap()
		if !Trusted(client, trusted) {
			break
		}
	}
	return client
}
