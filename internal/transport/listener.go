package transport

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Accept back-off, as net/http's Server.Serve does: start small so a brief
// shortage costs little, cap it so the listener recovers within a second
// once descriptors are free again.
const (
	acceptDelayMin = 5 * time.Millisecond
	acceptDelayMax = time.Second
	// failingFor is how long after its last accept error a listener still
	// counts as failing when no accept has succeeded since. While it fails
	// it retries at least every acceptDelayMax, so a recent error means it
	// is still failing.
	failingFor = 5 * acceptDelayMax
)

// Listener keeps accepting through errors that a plain accept loop would
// die of. Any error other than the listener being closed is retried with
// a growing delay; when the process runs out of file descriptors (EMFILE,
// ENFILE) it frees a reserve descriptor held since the start, accepts the
// waiting connections and closes them at once (the clients see a closed
// connection instead of hanging in the backlog), then takes the reserve
// back. Err tells whether it is failing now, for health checks.
type Listener struct {
	net.Listener
	// now and sleep are replaced in tests.
	now   func() time.Time
	sleep func(time.Duration, <-chan struct{})

	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex // guards reserve, lastErr, errAt, okAt
	reserve *os.File   // spare descriptor; nil while released
	lastErr error
	errAt   time.Time // time of lastErr
	okAt    time.Time // time of the last successful accept
}

// NewListener wraps ln. It opens the reserve descriptor (/dev/null); if
// that fails the listener still works, only without the reserve.
func NewListener(ln net.Listener) *Listener {
	l := &Listener{Listener: ln, now: time.Now, sleep: sleepOrClose, closed: make(chan struct{})}
	l.reserve, _ = os.Open(os.DevNull)
	return l
}

func sleepOrClose(d time.Duration, closed <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-closed:
	}
}

// Accept returns the next connection. Its only error is the one of a
// closed listener (net.ErrClosed).
func (l *Listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			l.mu.Lock()
			l.okAt = l.now()
			l.mu.Unlock()
			return c, nil
		}
		select {
		case <-l.closed:
			return nil, net.ErrClosed
		default:
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		l.mu.Lock()
		l.lastErr, l.errAt = err, l.now()
		l.mu.Unlock()
		if outOfDescriptors(err) {
			l.shed()
		}
		delay = min(max(2*delay, acceptDelayMin), acceptDelayMax)
		l.sleep(delay, l.closed)
	}
}

// shedMax bounds the connections one shortage closes at once.
const shedMax = 1000

// shed uses the reserve descriptor to take the connections waiting in the
// backlog off it and close them (as event-loop servers do on EMFILE: the
// clients learn at once, and retry later, instead of waiting in a backlog
// that a listener short of descriptors cannot serve).
func (l *Listener) shed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reserve == nil {
		return
	}
	l.reserve.Close()
	l.reserve = nil
	// The error came from a connection waiting in the backlog, so the
	// first accept normally returns at once; the deadline ends the loop
	// when the backlog is empty. Without a deadline only one is taken.
	d, ok := l.Listener.(interface{ SetDeadline(time.Time) error })
	n := 1
	if ok {
		n = shedMax
		defer d.SetDeadline(time.Time{})
	}
	for range n {
		if ok {
			d.SetDeadline(time.Now().Add(acceptDelayMin))
		}
		c, err := l.Listener.Accept()
		if err != nil {
			break
		}
		c.Close()
	}
	l.reserve, _ = os.Open(os.DevNull)
}

// Close closes the listener and releases the reserve descriptor.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	err := l.Listener.Close()
	l.mu.Lock()
	if l.reserve != nil {
		l.reserve.Close()
		l.reserve = nil
	}
	l.mu.Unlock()
	return err
}

// Err is the accept error the listener is failing with, or nil when it
// accepts normally (no error recently, or a connection accepted since).
func (l *Listener) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lastErr == nil || !l.okAt.Before(l.errAt) || l.now().Sub(l.errAt) > failingFor {
		return nil
	}
	return l.lastErr
}

// outOfDescriptors reports whether err is the process (EMFILE) or the
// system (ENFILE) running out of file descriptors.
func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// Serve is the accept loop of every listener of the server (c2s, s2s,
// components, the control socket, the SOCKS5 proxy). It passes each
// connection ln accepts to handle, which must not block for long (it
// starts the connection's goroutine), until ln is closed; then it returns
// nil. An accept that times out (a deadline on the listener) is retried
// after a short pause; any other error ends it.
func Serve(ln net.Listener, handle func(net.Conn)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		handle(c)
	}
}
