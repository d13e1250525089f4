package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// flakyListener fails its next accepts with the queued errors, then
// accepts from the real listener.
type flakyListener struct {
	*net.TCPListener
	errs chan error // at most 32 queued
}

func (f *flakyListener) Accept() (net.Conn, error) {
	select {
	case err := <-f.errs:
		return nil, err
	default:
		return f.TCPListener.Accept()
	}
}

func emfile() error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}

func newFlaky(t *testing.T, errs ...error) *flakyListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyListener{TCPListener: ln.(*net.TCPListener), errs: make(chan error, 32)}
	for _, err := range errs {
		f.errs <- err
	}
	return f
}

// An accept loop on a plain listener ends at the first EMFILE; on Listener
// it goes on with growing delays, reports the failure meanwhile, and
// serves the next client.
func TestListenerRetriesAcceptErrors(t *testing.T) {
	other := errors.New("some other accept error")
	inner := newFlaky(t, emfile(), emfile(), other, emfile())
	inner.SetDeadline(time.Now().Add(10 * time.Second)) // a failure must not hang the test
	l := NewListener(inner)
	defer l.Close()
	// Without the reserve: shedding (tested below) would take the client.
	l.reserve.Close()
	l.reserve = nil
	var slept []time.Duration
	var errDuring []error
	l.sleep = func(d time.Duration, _ <-chan struct{}) {
		slept = append(slept, d)
		errDuring = append(errDuring, l.Err())
	}
	go func() {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	c.Close()
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	if len(slept) != len(want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	for i := range want {
		if slept[i] != want[i] {
			t.Errorf("delay %d = %v, want %v", i, slept[i], want[i])
		}
		if errDuring[i] == nil {
			t.Errorf("Err() = nil while failing (retry %d)", i)
		}
	}
	if err := l.Err(); err != nil {
		t.Errorf("Err() = %v after a successful accept", err)
	}
}

// The delay stops growing at a second, and Close ends the loop at once.
func TestListenerDelayCappedAndClose(t *testing.T) {
	errs := make([]error, 20)
	for i := range errs {
		errs[i] = &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}
	}
	inner := newFlaky(t, errs...)
	l := NewListener(inner)
	var last time.Duration
	n := 0
	l.sleep = func(d time.Duration, _ <-chan struct{}) {
		last = d
		if n++; n == len(errs) {
			l.Close()
		}
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
	if last != time.Second {
		t.Errorf("last delay %v, want 1s", last)
	}
}

// On EMFILE the waiting client is accepted with the reserve descriptor and
// closed at once, instead of hanging in the backlog.
func TestListenerShedsWithReserve(t *testing.T) {
	inner := newFlaky(t, emfile())
	l := NewListener(inner)
	defer l.Close()
	if l.reserve == nil {
		t.Fatal("no reserve descriptor")
	}
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan struct{})
	l.sleep = func(time.Duration, <-chan struct{}) {
		<-closed // the client saw its connection closed: done
		l.Close()
	}
	go func() {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if err == io.EOF || errors.Is(err, syscall.ECONNRESET) {
			close(closed)
		} else {
			t.Errorf("client read: %v, want EOF", err)
			close(closed)
		}
	}()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept = %v", err)
	}
	if l.reserve != nil {
		t.Error("reserve still open after Close")
	}
}

// A failure long past, with retries since then, is not reported forever:
// Err ages out.
func TestListenerErrAges(t *testing.T) {
	inner := newFlaky(t)
	l := NewListener(inner)
	defer l.Close()
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	l.lastErr, l.errAt = emfile(), now
	if l.Err() == nil {
		t.Fatal("Err() = nil right after a failure")
	}
	now = now.Add(failingFor + time.Second)
	if err := l.Err(); err != nil {
		t.Errorf("Err() = %v long after the failure", err)
	}
}

// Serve retries an accept that timed out, hands each connection over, ends
// with any other accept error, and returns nil once the listener is closed.
func TestServe(t *testing.T) {
	timeout := &net.OpError{Op: "accept", Net: "tcp", Err: os.ErrDeadlineExceeded}
	other := errors.New("some other accept error")
	ln := newFlaky(t, timeout)
	defer ln.Close()
	ln.SetDeadline(time.Now().Add(10 * time.Second)) // a failure must not hang the test
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var handled int
	err = Serve(ln, func(c net.Conn) {
		handled++
		c.Close()
		ln.errs <- other
	})
	if err != other || handled != 1 {
		t.Fatalf("Serve = %v after %d connections, want %v after 1", err, handled, other)
	}
	ln.Close()
	if err := Serve(ln, func(net.Conn) { t.Error("a connection from a closed listener") }); err != nil {
		t.Fatalf("Serve on a closed listener = %v, want nil", err)
	}
}
