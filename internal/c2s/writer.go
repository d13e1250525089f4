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

// ackRequest asks the client to acknowledge what it has handled (XEP-0198).
var ackRequest = []byte("<r xmlns='" + nsSM + "'/>")

// bufPool holds the buffers a flush assembles queued stanzas into, so an
// idle session owns none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// outbox is a session's bounded outbound queue. Senders append and never
// block on the network; a writer goroutine exists only while the queue is
// non-empty and writes everything queued in one write per wakeup
// (DESIGN.md), so a burst to one client costs one syscall, and an idle
// session has no goroutine and no buffer for writing.
//
// With stream management (XEP-0198) on, every stanza also stays in unacked
// until the client acknowledges it, so that it can be sent again after a
// resumption or handed to offline storage when the session ends.
type outbox struct {
	mu       sync.Mutex // guards the fields below
	queue    [][]byte   // frames waiting; never mutated after queuing
	size     int        // bytes in queue
	writing  bool       // a writer goroutine is running
	closing  bool       // close the connection once the queue is written
	closed   bool       // no more writes
	detached bool       // no connection: keep stanzas in unacked only

	sm           bool     // stream management enabled
	sent         uint32   // stanzas sent since enable, modulo 2^32
	unacked      [][]byte // stanzas not yet acknowledged, oldest first
	unackedBytes int

	max   int                       // bound on size and on unackedBytes
	write func(bufs [][]byte) error // writes frames; set by the session
	done  func(err error)           // called when the writer stops for good
}

// send queues a stanza (stanza true, counted by stream management) or a
// stream-level frame. It returns errQueueFull (and closes the outbox) when
// the client is too far behind, errClosed after close.
func (o *outbox) send(b []byte, stanza bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing || (o.closed && !o.detached) {
		return errClosed
	}
	if o.size+len(b) > o.max || o.unackedBytes+len(b) > o.max {
		o.closed, o.detached = true, false
		o.queue, o.size = nil, 0
		go o.done(errQueueFull)
		return errQueueFull
	}
	if stanza && o.sm {
		o.sent++
		o.unacked = append(o.unacked, b)
		o.unackedBytes += len(b)
	}
	if o.detached {
		return nil // kept in unacked for the resumption
	}
	o.queue = append(o.queue, b)
	o.size += len(b)
	o.startWriter()
	return nil
}

// startWriter runs the writer unless it runs already; o.mu is held.
func (o *outbox) startWriter() {
	if !o.writing {
		o.writing = true
		go o.run()
	}
}

// finish queues last frames (a stream error, the closing tag), after which
// the connection is closed and no more sends are accepted.
func (o *outbox) finish(last ...[]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.closing {
		return
	}
	o.closing = true
	o.queue = append(o.queue, last...)
	o.startWriter()
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
		if o.sm && len(o.unacked) > 0 && !o.closing {
			// One ack request per write, after the stanzas it covers.
			q = append(q, ackRequest)
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

// enableSM starts counting stanzas (XEP-0198 §3).
func (o *outbox) enableSM() {
	o.mu.Lock()
	o.sm, o.sent = true, 0
	o.mu.Unlock()
}

// ack drops the stanzas the client has handled: h counts all of them since
// enable, modulo 2^32 (XEP-0198 §4). It reports false when h acknowledges
// more than was sent.
func (o *outbox) ack(h uint32) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	pending := uint32(len(o.unacked))
	newly := h - (o.sent - pending) // acknowledged now, modulo 2^32
	if newly > pending {
		return false
	}
	for _, b := range o.unacked[:newly] {
		o.unackedBytes -= len(b)
	}
	o.unacked = append([][]byte(nil), o.unacked[newly:]...)
	return true
}

// detach keeps the outbox alive without a connection (the client may
// resume); stanzas sent meanwhile wait in unacked.
func (o *outbox) detach() {
	o.mu.Lock()
	o.detached, o.closed, o.closing = true, true, false
	o.queue, o.size = nil, 0
	o.mu.Unlock()
}

// reattach resumes writing on a new connection after the client
// acknowledged h, re-sending every stanza it has not (XEP-0198 §5) after
// the frames in first.
func (o *outbox) reattach(h uint32, first ...[]byte) bool {
	if !o.ack(h) {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.detached, o.closed, o.closing = false, false, false
	o.queue = append(append(o.queue[:0], first...), o.unacked...)
	o.size = 0
	for _, b := range o.queue {
		o.size += len(b)
	}
	o.startWriter()
	return true
}

// takeUnacked returns and forgets the stanzas never acknowledged, for
// offline storage when the session ends for good.
func (o *outbox) takeUnacked() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.unacked
	o.unacked, o.unackedBytes = nil, 0
	return u
}
