// Package batch is the group-commit writer both store backends use: one
// goroutine takes what callers have queued, in batches, and hands each
// batch to the backend's commit, which stores it in one transaction and
// answers every request in it. One commit (one fsync) then serves every
// caller that queued while the previous one ran (DESIGN.md: archive
// writes are batched by one writer, never one fsync per message).
//
// The Writer owns the parts that were copied between the backends: the
// buffered queue, batches bounded by count and weight, barriers (Sync),
// refusing requests once Close has begun, and draining the queue on
// Close so that every queued caller gets its real outcome.
package batch

import (
	"context"
	"sync"
)

// Options configure a Writer.
type Options[R any] struct {
	// Commit stores a batch and answers every request in it. It runs in
	// the writer goroutine, one batch at a time, in queue order.
	Commit func(batch []R)
	// Weight is a request's share of MaxWeight (rows, say); nil counts
	// every request as 1.
	Weight func(R) int
	// MaxRequests bounds a batch's requests (and the queue's buffer), so
	// that a flood of writes still sees commits at a steady pace.
	// Default 512.
	MaxRequests int
	// MaxWeight bounds a batch's total weight; a batch stops growing
	// once it is reached. Default MaxRequests.
	MaxWeight int
	// Closed is what Send and Sync return once Close has begun.
	Closed error
}

// Writer is one group-commit goroutine, started by New and stopped by
// Close. It is safe for concurrent use.
type Writer[R any] struct {
	o       Options[R]
	queue   chan item[R]  // buffered: callers queue while a batch commits
	sendMu  sync.RWMutex  // senders hold it shared; Close exclusively to set closing
	closing bool          // guarded by sendMu: Close has begun, no more sends
	quit    chan struct{} // closed by Close, after closing is set
	stopped chan struct{} // closed when run returns
	once    sync.Once     // Close's
}

// item is a request, or a barrier (Sync) answered once the batch it
// arrived in has committed.
type item[R any] struct {
	r       R
	barrier chan struct{}
}

// New starts a writer.
func New[R any](o Options[R]) *Writer[R] {
	if o.MaxRequests <= 0 {
		o.MaxRequests = 512
	}
	if o.MaxWeight <= 0 {
		o.MaxWeight = o.MaxRequests
	}
	if o.Weight == nil {
		o.Weight = func(R) int { return 1 }
	}
	w := &Writer[R]{
		o:       o,
		queue:   make(chan item[R], o.MaxRequests),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go w.run()
	return w
}

// Send queues r for a coming batch without waiting for its outcome, which
// Commit delivers however the backend's requests carry it. Requests sent
// by one goroutine are committed in that order. It fails with ctx's error
// if ctx ends while the queue is full, and with Options.Closed once Close
// has begun.
func (w *Writer[R]) Send(ctx context.Context, r R) error {
	return w.send(ctx, item[R]{r: r})
}

// Sync returns once every request sent before it has been committed (or
// failed): a barrier that rides the queue and is answered after the batch
// it lands in, without a transaction of its own.
func (w *Writer[R]) Sync(ctx context.Context) error {
	done := make(chan struct{})
	if err := w.send(ctx, item[R]{barrier: done}); err != nil {
		return err
	}
	// Once queued it is answered even if Close follows: Close drains.
	<-done
	return nil
}

func (w *Writer[R]) send(ctx context.Context, it item[R]) error {
	w.sendMu.RLock()
	defer w.sendMu.RUnlock()
	if w.closing {
		return w.o.Closed
	}
	select {
	case w.queue <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Closing reports whether Close has begun (Send and Sync then fail).
func (w *Writer[R]) Closing() bool {
	w.sendMu.RLock()
	defer w.sendMu.RUnlock()
	return w.closing
}

// Queued is how many requests (and barriers) wait for a batch.
func (w *Writer[R]) Queued() int { return len(w.queue) }

// Close stops taking requests, commits (and so answers) everything
// already queued, and returns when the goroutine has ended. Calling it
// again does nothing.
func (w *Writer[R]) Close() {
	w.once.Do(func() {
		// Once closing is set no request can join the queue, so the
		// goroutine, told to quit, drains it and stops.
		w.sendMu.Lock()
		w.closing = true
		w.sendMu.Unlock()
		close(w.quit)
		<-w.stopped
	})
}

// run is the writer goroutine: it takes one item, then everything else
// already queued up to the bounds, and commits them as one batch.
func (w *Writer[R]) run() {
	defer close(w.stopped)
	batch := make([]R, 0, w.o.MaxRequests)
	var barriers []chan struct{}
	for {
		first, ok := w.next()
		if !ok {
			return
		}
		batch, barriers = w.fill(first, batch[:0], barriers[:0])
		if len(batch) > 0 {
			w.o.Commit(batch)
		}
		for _, b := range barriers {
			close(b)
		}
		clear(batch) // drop references to answered requests
		clear(barriers)
	}
}

// next waits for the first item of the next batch. Once quit is closed
// it returns what is still queued, then ok false: Close has stopped new
// sends before closing quit, so an empty queue stays empty.
func (w *Writer[R]) next() (it item[R], ok bool) {
	select {
	case it = <-w.queue:
		return it, true
	case <-w.quit:
		select {
		case it = <-w.queue:
			return it, true
		default:
			return it, false
		}
	}
}

// fill starts a batch with first and adds what is already queued, up to
// MaxRequests requests and until their weights reach MaxWeight.
func (w *Writer[R]) fill(first item[R], batch []R, barriers []chan struct{}) ([]R, []chan struct{}) {
	weight := 0
	add := func(it item[R]) {
		if it.barrier != nil {
			barriers = append(barriers, it.barrier)
			return
		}
		batch = append(batch, it.r)
		weight += w.o.Weight(it.r)
	}
	add(first)
	for len(batch) < w.o.MaxRequests && weight < w.o.MaxWeight {
		select {
		case it := <-w.queue:
			add(it)
		default:
			return batch, barriers
		}
	}
	return batch, barriers
}
