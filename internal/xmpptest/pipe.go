package xmpptest

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
)

// Listener is an in-memory net.Listener: Dial hands one end of a
// net.Pipe to Accept and returns the other, so a server's Serve loop and
// this package's Client talk without sockets. Its connections carry
// loopback addresses, as a server's per-address accounting expects.
//
// A pipe has no buffer: a write waits for the other side to read. The
// Client reads continuously once bound, so a test that leaves what it is
// sent unread holds up the server only after 64 stanzas.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once // closes done
	port  atomic.Uint32
}

// NewListener returns an open in-memory listener.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// pipeAddr is the listener's own address.
var pipeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5222}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; connections already accepted stay open.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return pipeAddr }

// Dial connects to the listener; it waits for Accept or ctx.
func (l *Listener) Dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000 + int(l.port.Add(1)%20000)}
	select {
	case l.conns <- addrConn{Conn: server, local: pipeAddr, remote: peer}:
		return addrConn{Conn: client, local: peer, remote: pipeAddr}, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, net.ErrClosed
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, ctx.Err()
	}
}

// addrConn gives a pipe end TCP-like addresses (net.Pipe's are "pipe").
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c addrConn) LocalAddr() net.Addr  { return c.local }
func (c addrConn) RemoteAddr() net.Addr { return c.remote }
