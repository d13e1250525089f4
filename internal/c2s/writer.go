package c2s

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
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
// session has no goroutine and no buffer for writing. A fan-out (a room's
// groupchat messages) queues with sendBatched, which does not start the
// writer, and wakes it once after its whole batch (router.Batched), so
// that the batch leaves in one write rather than as many writes as the
// writer happened to wake for while the batch was queued.
//
// The bound (max) paces rather than kills: a send that takes the queue (or
// the unacknowledged stanzas) past max is still accepted, and the senders
// are asked to wait (behind, router.Paced) until the writer has taken the
// queue or the client acknowledged enough. Only a client more than twice
// the bound behind, or over the bound for longer than the slow-client
// timeout (the sweeper), is disconnected (docs/design/03).
//
// With stream management (XEP-0198) on, every stanza also stays in unacked
// until the client acknowledges it, so that it can be sent again after a
// resumption or handed to offline storage when the session ends.
type outbox struct {
	mu         sync.Mutex // guards the fields below
	queue      [][]byte   // frames waiting; never mutated after queuing
	size       int        // bytes in queue
	writing    bool       // a writer goroutine is running
	wakeOwed   bool       // sendBatched queued without a writer: its caller owes Wake
	closing    bool       // close the connection once the queue is written
	closed     bool       // no more writes
	detached   bool       // no connection: keep stanzas in unacked only
	overflowed bool       // detached beyond the bound: the session must end
	ended      bool       // unacked was taken: the session is over, no more stanzas
	csi        csiState   // XEP-0352 client state and what it holds

	// Backpressure (router.Paced): over is set while size or
	// unackedBytes is past max; senders then wait on drained.
	over      atomic.Bool
	overSince time.Time
	drained   chan struct{}

	sm           bool     // stream management enabled
	sent         uint32   // stanzas sent since enable, modulo 2^32
	unacked      [][]byte // stanzas not yet acknowledged, oldest first
	unackedBytes int

	// Tracked stanzas (router.Tracked): without stream management they
	// are done once written to the connection, with it once acknowledged.
	writeWaits []func(bool) // for the frames in queue
	ackWaits   []ackWait    // in order of n
	resolved   []resolution // outcomes to report once o.mu is released

	now   func() time.Time          // the session's clock
	max   int                       // bound on size and on unackedBytes
	write func(bufs [][]byte) error // writes frames; set by the session
	done  func(err error)           // called when the writer stops for good
}

// ackWait is a tracked stanza waiting for its acknowledgement: n is its
// count (o.sent after it was queued).
type ackWait struct {
	n    uint32
	done func(bool)
}

type resolution struct {
	done func(bool)
	ok   bool
}

// resolveLocked reports the outcome of tracked stanzas once o.mu is
// released (the callbacks may send again); o.mu is held.
func (o *outbox) resolveLocked(ok bool, fs ...func(bool)) {
	for _, f := range fs {
		o.resolved = append(o.resolved, resolution{f, ok})
	}
}

// unlock releases o.mu and reports what was resolved under it.
func (o *outbox) unlock() {
	r := o.resolved
	o.resolved = nil
	o.mu.Unlock()
	for _, x := range r {
		x.done(x.ok)
	}
}

// dropWaitsLocked fails every stanza waiting to be written (the queue is
// discarded); o.mu is held.
func (o *outbox) dropWaitsLocked() {
	o.resolveLocked(false, o.writeWaits...)
	o.writeWaits = nil
}

// send queues a stanza (stanza true, counted by stream management) or a
// stream-level frame. It returns errQueueFull (and closes the outbox) when
// the client is more than twice the bound behind, errClosed after close.
func (o *outbox) send(b []byte, stanza bool) error { return o.sendTracked(b, stanza, nil) }

// sendTracked is send that reports, through done, whether the stanza
// reached the client: written to the connection without stream
// management, acknowledged with it (false: the session ended first).
// done is not called when sendTracked returns an error.
func (o *outbox) sendTracked(b []byte, stanza bool, done func(bool)) error {
	o.mu.Lock()
	defer o.unlock()
	return o.sendLocked(b, stanza, done, false)
}

// sendBatched is send for a fan-out that wakes its recipients once its batch
// is queued (router.Batched): the stanza is queued but the writer is not
// started, unless the queue is past its bound. wake reports whether the
// caller must call Wake after its batch: not when a writer runs (it will
// take the stanza) or when an earlier sendBatched owes the wakeup already
// (another room's batch, whose Wake writes this stanza too).
func (o *outbox) sendBatched(b []byte) (wake bool, err error) {
	o.mu.Lock()
	defer o.unlock()
	owed := o.wakeOwed
	if err := o.sendLocked(b, true, nil, true); err != nil {
		return false, err
	}
	return o.wakeOwed && !owed, nil
}

// Wake starts the writer for what sendBatched queued, unless something
// started it since (router.Waker).
func (o *outbox) Wake() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.wakeOwed {
		return
	}
	o.wakeOwed = false
	if len(o.queue) > 0 && !o.closed {
		o.startWriter()
	}
}

// sendLocked is sendTracked, or sendBatched when batch is set; o.mu is
// held.
func (o *outbox) sendLocked(b []byte, stanza bool, done func(bool), batch bool) error {
	if o.closing || o.ended || (o.closed && !o.detached) {
		return errClosed
	}
	if o.detached {
		return o.keepDetachedLocked(b, stanza, done)
	}
	if o.csi.inactive && stanza && done == nil {
		// XEP-0352: hold or drop what can wait (csi.go). A tracked
		// stanza (stored offline) is sent at once: its sender waits.
		class, key := classify(b, o.csi.nicks)
		switch {
		case class == csiDrop:
			return nil
		case class == csiHold && o.csi.hold(b, key, o.max/4):
			return nil
		}
		if err := o.flushHeldLocked(batch); err != nil {
			return err
		}
	}
	return o.enqueueLocked(b, stanza, done, batch)
}

// flushHeldLocked queues what an inactive session held, in order (batch:
// as sendBatched does); o.mu is held.
func (o *outbox) flushHeldLocked(batch bool) error {
	for _, h := range o.csi.take() {
		if err := o.enqueueLocked(h, true, nil, batch); err != nil {
			return err
		}
	}
	return nil
}

// setInactive records the client's state (XEP-0352); becoming active
// sends everything held.
func (o *outbox) setInactive(inactive bool) error {
	o.mu.Lock()
	defer o.unlock()
	o.csi.inactive = inactive
	if inactive || o.closing || o.ended || o.closed {
		return nil
	}
	return o.flushHeldLocked(false)
}

// joined records or forgets the session's nickname in a room, for
// telling mentions apart while inactive (csi.go).
func (o *outbox) joined(room, nick string, in bool) {
	o.mu.Lock()
	o.csi.joined(room, nick, in)
	o.mu.Unlock()
}

// nickname returns the session's nickname in a room, if it joined one.
func (o *outbox) nickname(room string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.csi.nicks[room]
	return n, ok
}

// heldToUnackedLocked moves what an inactive session held to the
// unacknowledged stanzas when its connection goes (for a resumption, or
// offline storage when the session ends); o.mu is held.
func (o *outbox) heldToUnackedLocked() {
	for _, h := range o.csi.take() {
		o.sent++
		o.unacked = append(o.unacked, h)
		o.unackedBytes += len(h)
	}
}

// enqueueLocked queues a stanza or frame for the writer and starts it,
// unless batch (sendBatched) leaves that to Wake; o.mu is held.
func (o *outbox) enqueueLocked(b []byte, stanza bool, done func(bool), batch bool) error {
	if o.size+len(b) > 2*o.max || o.unackedBytes+len(b) > 2*o.max {
		// Past twice the bound even though senders were asked to wait
		// (or never could be: server fan-out): the client is too far
		// behind.
		if stanza && o.sm && done == nil {
			// Kept for offline storage when the session ends.
			o.sent++
			o.unacked = append(o.unacked, b)
			o.unackedBytes += len(b)
		}
		o.closed = true
		o.queue, o.size = nil, 0
		o.dropWaitsLocked()
		o.releaseLocked()
		go o.done(errQueueFull)
		return errQueueFull
	}
	if stanza && o.sm {
		o.sent++
		o.unacked = append(o.unacked, b)
		o.unackedBytes += len(b)
		if done != nil {
			o.ackWaits = append(o.ackWaits, ackWait{o.sent, done})
			done = nil
		}
	}
	o.queue = append(o.queue, b)
	o.size += len(b)
	if done != nil {
		o.writeWaits = append(o.writeWaits, done)
	}
	if !o.over.Load() && (o.size > o.max || o.unackedBytes > o.max) {
		o.over.Store(true)
		o.overSince = o.now()
	}
	if !batch || o.over.Load() {
		// Past the bound a batch waits no longer: the queue is to
		// shrink, not grow by the rest of the batch, before its senders
		// pay (router.Paced).
		o.startWriter()
	} else if !o.writing {
		o.wakeOwed = true
	}
	return nil
}

// behind returns nil while the queue is under its bound, else a channel
// closed once it is back under (router.Paced). The common case is one
// atomic load.
func (o *outbox) behind() <-chan struct{} {
	if !o.over.Load() {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.over.Load() {
		return nil
	}
	if o.drained == nil {
		o.drained = make(chan struct{})
	}
	return o.drained
}

// overFor tells how long the queue has been over its bound (0: it is not).
func (o *outbox) overFor(now time.Time) time.Duration {
	if !o.over.Load() {
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.over.Load() {
		return 0
	}
	return now.Sub(o.overSince)
}

// underLocked releases the waiting senders once the queue is back under
// its bound; o.mu is held.
func (o *outbox) underLocked() {
	if o.over.Load() && o.size <= o.max && o.unackedBytes <= o.max {
		o.releaseLocked()
	}
}

// releaseLocked lets every waiting sender go on; o.mu is held.
func (o *outbox) releaseLocked() {
	o.over.Store(false)
	o.overSince = time.Time{}
	if o.drained != nil {
		close(o.drained)
		o.drained = nil
	}
}

// keepDetachedLocked keeps a stanza for a detached session in unacked,
// for the resumption (XEP-0198 §5). Past the bound the session must end:
// the stanza is still kept (with everything before it, it goes to offline
// storage when the session ends, issue 10 item 2) and done is told once.
// Only past twice the bound, while the session is ending, is a stanza
// refused; the router then stores or bounces it itself. o.mu is held.
func (o *outbox) keepDetachedLocked(b []byte, stanza bool, done func(bool)) error {
	if !stanza || !o.sm {
		return nil // stream-level bytes: nothing to resume
	}
	if o.unackedBytes+len(b) > o.max {
		if o.unackedBytes+len(b) > 2*o.max {
			return errQueueFull
		}
		if !o.overflowed {
			o.overflowed = true
			go o.done(errQueueFull)
		}
	}
	o.sent++
	o.unacked = append(o.unacked, b)
	o.unackedBytes += len(b)
	if done != nil {
		o.ackWaits = append(o.ackWaits, ackWait{o.sent, done})
	}
	return nil
}

// startWriter runs the writer unless it runs already; o.mu is held. The
// writer takes whatever sendBatched queued too, so no Wake is owed any more.
func (o *outbox) startWriter() {
	o.wakeOwed = false
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
	o.releaseLocked() // nobody waits for a session that is closing
	o.startWriter()
}

func (o *outbox) run() {
	for {
		o.mu.Lock()
		q, waits := o.queue, o.writeWaits
		o.queue, o.size, o.writeWaits = nil, 0, nil
		o.underLocked()
		if len(q) == 0 || o.closed {
			o.resolveLocked(false, waits...)
			o.writing = false
			closing := o.closing && !o.closed
			if closing {
				o.closed = true
			}
			o.unlock()
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
		err := o.write(q)
		for _, w := range waits {
			w(err == nil)
		}
		if err != nil {
			o.mu.Lock()
			o.closed, o.writing = true, false
			o.queue, o.size = nil, 0
			o.dropWaitsLocked()
			o.releaseLocked()
			o.unlock()
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
	defer o.unlock()
	return o.ackLocked(h)
}

func (o *outbox) ackLocked(h uint32) bool {
	pending := uint32(len(o.unacked))
	base := o.sent - pending // count of the last stanza acknowledged before
	newly := h - base        // acknowledged now, modulo 2^32
	if newly > pending {
		return false
	}
	for _, b := range o.unacked[:newly] {
		o.unackedBytes -= len(b)
	}
	o.unacked = append([][]byte(nil), o.unacked[newly:]...)
	i := 0
	for ; i < len(o.ackWaits) && o.ackWaits[i].n-base <= newly; i++ {
		o.resolveLocked(true, o.ackWaits[i].done)
	}
	if i > 0 {
		o.ackWaits = append([]ackWait(nil), o.ackWaits[i:]...)
	}
	o.underLocked()
	return true
}

// detach keeps the outbox alive without a connection (the client may
// resume); stanzas sent meanwhile wait in unacked. It returns what the
// client had not acknowledged by then (a copy; the stanzas are shared).
func (o *outbox) detach() (unacked [][]byte) {
	o.mu.Lock()
	if o.sm {
		o.heldToUnackedLocked()
	}
	o.csi.inactive = false // a resumed stream starts active; the client says again
	o.detached, o.closed, o.closing = true, true, false
	o.queue, o.size = nil, 0
	o.dropWaitsLocked()
	unacked = slices.Clone(o.unacked)
	o.unlock()
	return unacked
}

// reattach resumes writing on a new connection after the client
// acknowledged h, re-sending every stanza it has not (XEP-0198 §5) after
// the frames in first.
func (o *outbox) reattach(h uint32, first ...[]byte) bool {
	o.mu.Lock()
	defer o.unlock()
	if !o.ackLocked(h) {
		return false
	}
	o.detached, o.closed, o.closing, o.overflowed = false, false, false, false
	o.queue = append(append(o.queue[:0], first...), o.unacked...)
	o.size = 0
	for _, b := range o.queue {
		o.size += len(b)
	}
	o.startWriter()
	return true
}

// takeUnacked returns and forgets the stanzas never acknowledged, for
// offline storage when the session ends for good. Tracked stanzas are
// reported as not delivered instead: whoever sent them still holds them.
func (o *outbox) takeUnacked() [][]byte {
	o.mu.Lock()
	defer o.unlock()
	u := append(o.unacked, o.csi.take()...) // held, never sent (XEP-0352)
	base := o.sent - uint32(len(o.unacked))
	if len(o.ackWaits) > 0 {
		kept := u[:0:0]
		w := 0
		for i, b := range u {
			if w < len(o.ackWaits) && o.ackWaits[w].n-base == uint32(i+1) {
				o.resolveLocked(false, o.ackWaits[w].done)
				w++
				continue
			}
			kept = append(kept, b)
		}
		u = kept
		o.ackWaits = nil
	}
	o.unacked, o.unackedBytes = nil, 0
	o.dropWaitsLocked()
	// The session is over: later stanzas are refused, and the router
	// stores or bounces them itself.
	o.ended, o.detached = true, false
	o.releaseLocked()
	return u
}
