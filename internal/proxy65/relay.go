package proxy65

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"parley/internal/jid"
	"parley/internal/transport"
)

// stream is one bytestream: the connections that named the same hash,
// the first to arrive (usually the target, XEP-0065 §6.3.2) in conns[0].
type stream struct {
	hash      string
	conns     [2]net.Conn
	activated bool
	owner     jid.JID // the initiator's bare JID, once activated
	finished  int     // directions done relaying
}

// Serve accepts SOCKS5 connections on ln until ln is closed. It learns
// the address to announce from ln unless Options set it.
func (m *Module) Serve(ln net.Listener) error {
	a := &streamhost{host: m.opts.Host, port: m.opts.Port}
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil {
		if a.port == 0 {
			a.port = int(ap.Port())
		}
		if a.host == "" && !ap.Addr().IsUnspecified() {
			a.host = ap.Addr().Unmap().String()
		}
	}
	if a.host == "" {
		a.host = m.domain.String()
	}
	m.addr.Store(a)
	defer m.addr.Store(nil)
	return transport.Serve(ln, func(c net.Conn) {
		if !m.admit(c) {
			c.Close()
		}
	})
}

// admit counts a new connection and starts its goroutine, unless the
// proxy is closed or full.
func (m *Module) admit(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	if len(m.conns) >= m.opts.MaxConnections {
		m.opts.Log.Warn("proxy65: connection limit reached", "remote", c.RemoteAddr().String(),
			"limit", m.opts.MaxConnections)
		return false
	}
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		ip = ap.Addr().Unmap()
	}
	if m.perIP[ip] >= m.opts.MaxConnectionsPerIP {
		m.opts.Log.Warn("proxy65: connection limit per address reached", "remote", c.RemoteAddr().String(),
			"limit", m.opts.MaxConnectionsPerIP)
		return false
	}
	m.conns[c] = ip
	m.perIP[ip]++
	m.wg.Add(1)
	go m.serveConn(c)
	return true
}

// forget stops counting a connection. The caller holds m.mu.
func (m *Module) forget(c net.Conn) {
	ip, ok := m.conns[c]
	if !ok {
		return
	}
	delete(m.conns, c)
	if m.perIP[ip]--; m.perIP[ip] <= 0 {
		delete(m.perIP, ip)
	}
}

// Close closes every connection and waits for their goroutines. The
// listener is the caller's to close.
func (m *Module) Close() error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.done)
		for c := range m.conns {
			c.Close()
		}
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// serveConn runs one connection: the SOCKS5 handshake, the wait for the
// peer and the activation, then one direction of the relay (the peer's
// goroutine runs the other).
func (m *Module) serveConn(c net.Conn) {
	defer m.wg.Done()
	relaying := false // then finish closes c, which the peer writes to
	defer func() {
		if !relaying {
			m.mu.Lock()
			m.forget(c)
			m.mu.Unlock()
			c.Close()
		}
	}()
	// The wait for the peer and the activation ends at this deadline
	// (or earlier: activate sets the read deadline to now to wake us).
	c.SetDeadline(time.Now().Add(m.opts.IdleTimeout))
	b := newBucket(m.opts.BytesPerSecond, time.Now()) // this connection's direction
	req, err := handshake(c)
	if err != nil {
		m.opts.Log.Debug("proxy65: handshake", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	s, ok := m.join(req.addr, c)
	if !ok {
		// XEP-0065 §10.1: one target per stream, no multicast.
		c.Write(appendReply(nil, repNotAllowed, req))
		return
	}
	if _, err := c.Write(appendReply(nil, repSucceeded, req)); err != nil {
		m.leave(s)
		return
	}
	active, first := m.await(c, s, b)
	if !active {
		m.leave(s)
		return
	}
	c.SetDeadline(time.Time{})
	relaying = true
	peer := s.conns[0]
	if peer == c {
		peer = s.conns[1]
	}
	err = m.relay(peer, c, b, first)
	m.finish(s, err)
}

// await reads from c until the stream is activated (activate wakes the
// read with a deadline of now), the wait runs out, or the client goes:
// the proxy notices a client that leaves before the activation, and what
// a client sends before it is ignored (XEP-0065 §10.1: read and dropped,
// at the stream's rate). It reports whether the stream is active, with
// the bytes of a read that returned after the activation: those may
// have been sent after it, so they are relayed, not dropped.
func (m *Module) await(c net.Conn, s *stream, b *bucket) (active bool, first []byte) {
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		m.mu.Lock()
		active = s.activated
		m.mu.Unlock()
		if active || err != nil {
			return active, buf[:n]
		}
		m.discarded.Add(int64(n))
		if m.throttle(b, n) != nil {
			return false, nil
		}
	}
}

// handshake reads the greeting and the request (RFC 1928 §3, §4) and
// answers the greeting. Bytes the client sent after the request are
// dropped (XEP-0065 §10.1: ignored until the activation).
func handshake(c net.Conn) (req request, err error) {
	buf := make([]byte, 0, maxGreeting+maxRequest)
	n, noAuth, err := readParsed(c, &buf, parseGreeting)
	if err != nil {
		return req, err
	}
	if !noAuth {
		c.Write([]byte{socksVersion, methodNone})
		return req, errors.New("proxy65: the client does not offer 'no authentication'")
	}
	if _, err := c.Write([]byte{socksVersion, methodNoAuth}); err != nil {
		return req, err
	}
	buf = buf[n:]
	_, req, err = readParsed(c, &buf, parseRequest)
	var se *socksError
	if errors.As(err, &se) && se.reply {
		c.Write(appendFailure(nil, se.rep))
	}
	return req, err
}

// readParsed parses what the client sent with parse, reading more into
// buf's spare capacity while parse finds it short.
func readParsed[T any](c net.Conn, buf *[]byte, parse func([]byte) (int, T, error)) (int, T, error) {
	for {
		n, v, err := parse(*buf)
		if err != errShort {
			return n, v, err
		}
		if *buf, err = readMore(c, *buf); err != nil {
			return n, v, err
		}
	}
}

// readMore reads into buf's spare capacity.
func readMore(c net.Conn, buf []byte) ([]byte, error) {
	if len(buf) == cap(buf) {
		return buf, errors.New("proxy65: handshake too long")
	}
	n, err := c.Read(buf[len(buf):cap(buf)])
	if n == 0 && err == nil {
		err = io.ErrNoProgress
	}
	return buf[:len(buf)+n], err
}

// join adds a connection to the stream named hash: the first makes it,
// the second pairs it; a third, or any after activation, is refused.
func (m *Module) join(hash string, c net.Conn) (*stream, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[hash]
	switch {
	case s == nil:
		s = &stream{hash: hash}
		s.conns[0] = c
		m.streams[hash] = s
		return s, true
	case s.conns[1] == nil && !s.activated:
		s.conns[1] = c
		return s, true
	}
	return nil, false
}

// leave gives up a stream that was not activated: both connections are
// closed, and the hash is free again.
func (m *Module) leave(s *stream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.activated {
		return // activated meanwhile: the relay owns it
	}
	if m.streams[s.hash] == s {
		delete(m.streams, s.hash)
	}
	for _, c := range s.conns {
		if c != nil {
			c.Close()
		}
	}
}

// finish records that one direction ended; with the second, or on an
// error, the stream ends: both connections close (an error in one
// direction ends the other too) and no longer count, nor does the
// stream against its initiator.
func (m *Module) finish(s *stream, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.finished++
	if err != nil || s.finished == 2 {
		s.conns[0].Close()
		s.conns[1].Close()
	}
	if s.finished < 2 {
		return
	}
	m.forget(s.conns[0])
	m.forget(s.conns[1])
	delete(m.streams, s.hash)
	if m.active[s.owner]--; m.active[s.owner] <= 0 {
		delete(m.active, s.owner)
	}
}

// relay copies first and then src to dst, throttled by b; at the end of
// src it half-closes dst so the peer sees the end too. It returns nil at
// the end of src, else the error.
func (m *Module) relay(dst, src net.Conn, b *bucket, first []byte) error {
	if len(first) > 0 {
		if err := m.throttle(b, len(first)); err != nil {
			return err
		}
		if _, err := dst.Write(first); err != nil {
			return err
		}
	}
	buf := make([]byte, min(32<<10, b.burst))
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if err := m.throttle(b, n); err != nil {
				return err
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
				return nil
			}
			return err // no half-close: the stream ends here
		}
		if err != nil {
			return err
		}
	}
}

// errClosed: the proxy closed while a relay was throttled.
var errClosed = errors.New("proxy65: closed")

// throttle waits until the bucket allows n more bytes, or the proxy
// closes.
func (m *Module) throttle(b *bucket, n int) error {
	wait := b.take(time.Now(), n)
	if wait <= 0 {
		return nil
	}
	m.throttled.Add(int64(wait))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-m.done:
		return errClosed
	}
}

// bucket is a token bucket of bytes: rate per second, holding at most
// burst (a quarter second's worth, at least 16 KiB, so reads stay large).
type bucket struct {
	rate   float64
	burst  int
	tokens float64
	last   time.Time
}

func newBucket(rate int, now time.Time) *bucket {
	burst := max(rate/4, 16<<10)
	return &bucket{rate: float64(rate), burst: burst, tokens: float64(burst), last: now}
}

// take spends n bytes at now and returns how long to wait before sending
// them (zero if the bucket held them). Tokens may go negative: the debt
// is paid by the wait.
func (b *bucket) take(now time.Time, n int) time.Duration {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(b.burst), b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
