package c2s

import (
	"errors"
	"sync"
	"time"
)

// errQueueFull ends a session whose client does not read fast enough.
var errQueueFull = errors.New("c2s: outbound queue full")

// errClosed is returned by Send after the session ended.
var errClosed = errors.New("c2s: session closed")

// writeTimeout bounds one write to a client.
const writeTimeout = 30 * time.Second

// bufPool holds the buffers a flush assembles queued stanzas into, so an
// idle session owns none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// outbox is a session's bounded outbound queue. Senders append and never
// block on the network; a writer goroutine exists only while the queue is
// non-empty and writes everything queued in one write per wakeup
// (DESIGN.md), so a burst to one client costs one syscall, and an idle
// session has no goroutine and no buffer for writing.
type outbox struct {
	mu      sync.Mutex // guards the fields below
	queue   [][]byte   // stanzas waiting; never mutated after queuing
	size    int        // bytes in queue
	writing bool       // a writer goroutine is running
	closing bool       // close the connection once the queue is written
	closed  bool       // no more sends accepted

	max   int                       // bound on size
	write func(bufs [][]byte) error // writes frames; set by the session
	done  func(err error)           // called once when the writer stops for good
}

// send queues b. It returns errQueueFull (and closes the outbox) when the
// client is too far behind, errClosed after close.
func (o *outbox) send(b []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.closing {
		return errClosed
	}
	if o.size+len(b) > o.max {
		o.closed = true
		o.queue, o.size = nil, 0
		go o.done(errQueueFull)
		return errQueueFull
	}
	o.queue = append(o.queue, b)
	o.size += len(b)
	if !o.writing {
		o.writing = true
		go o.run()
	}
	return nil
}

// finish queues last bytes (a stream error, the closing tag), after which
// the connection is closed and no more sends are accepted.
func (o *outbox) finish(last ...[]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.closing {
		return
	}
	o.closing = true
	o.queue = append(o.queue, last...)
	if !o.writing {
		o.writing = true
		go o.run()
	}
}

func (o *outbox) run() {
	for {
		o.mu.Lock()
		q := o.queue
		o.queue, o.size = nil, 0
		if len(q) == 0 || o.closed {
			o.writing = false
			closing := o.closing && !o.closed
			if closing {
				o.closed = true
			}
			o.mu.Unlock()
			if closing {
				o.done(nil)
			}
			return
		}
		o.mu.Unlock()
		if err := o.write(q); err != nil {
			o.mu.Lock()
			o.closed, o.writing = true, false
			o.queue, o.size = nil, 0
			o.mu.Unlock()
			o.done(err)
			return
		}
	}
}

// idle reports whether nothing waits to be written.
func (o *outbox) idle() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.writing && len(o.queue) == 0
}
