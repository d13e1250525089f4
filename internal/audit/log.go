package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"parley/internal/clock"
	"parley/internal/defaults"
	"parley/internal/store"
)

// Defaults of Options' zero values.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Hour
	DefaultQueue              = 4096
)

// maxBatch bounds the records one store transaction takes.
const maxBatch = 512

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: log closed")

// Options configure a Log.
type Options struct {
	Store store.Audit
	// Key signs checkpoints (LoadOrCreateKey).
	Key ed25519.PrivateKey
	// A checkpoint is written every CheckpointEvery records or, if any
	// were written since the last, every CheckpointInterval, and at
	// Close; defaults 1000 and 1h.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// Queue is how many emitted records may wait for the writer; Emit
	// blocks beyond it (an audit record is never dropped). Default 4096.
	Queue int
	Clock clock.Clock
	Log   *slog.Logger // nil: slog.Default()
}

// Log appends records to the store's hash chain from one writer goroutine
// that batches whatever is queued into one transaction. It is safe for
// concurrent use.
type Log struct {
	o    Options
	reqs chan *appendReq

	sendMu sync.RWMutex // senders hold it shared; Close exclusively to set closed
	closed bool         // guarded by sendMu

	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once

	mu      sync.Mutex    // guards head and changed
	head    int64         // seq of the last durable record
	changed chan struct{} // closed when head moves, then replaced
}

type appendReq struct {
	rec  Record
	done chan error // nil for Emit: nobody waits
	seq  int64      // set before done is answered
}

// Open reads the chain's head from the store and starts the writer. Close
// stops it.
func Open(ctx context.Context, o Options) (*Log, error) {
	if o.Store == nil || o.Key == nil {
		return nil, errors.New("audit: Open needs a store and a key")
	}
	defaults.Positive(&o.CheckpointEvery, DefaultCheckpointEvery)
	defaults.Positive(&o.CheckpointInterval, DefaultCheckpointInterval)
	defaults.Positive(&o.Queue, DefaultQueue)
	o.Clock = clock.Or(o.Clock)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	w := writer{o: o}
	if err := w.loadHead(ctx); err != nil {
		return nil, err
	}
	l := &Log{
		o:       o,
		reqs:    make(chan *appendReq, o.Queue),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		head:    w.seq,
		changed: make(chan struct{}),
	}
	w.l = l
	go w.run()
	return l, nil
}

// Append adds r and returns its seq once it is durable: for events whose
// action must not happen unrecorded (admin actions), the caller refuses
// the action when Append fails.
func (l *Log) Append(ctx context.Context, r Record) (int64, error) {
	req := &appendReq{rec: l.stamp(r), done: make(chan error, 1)}
	if err := l.enqueue(ctx, req); err != nil {
		return 0, err
	}
	select {
	case err := <-req.done:
		return req.seq, err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Emit queues r and returns at once, for events on a hot path (logins).
// It blocks only while the queue is full; after Close it drops r (the
// server is stopping) and says so in the server log.
func (l *Log) Emit(r Record) {
	if err := l.enqueue(context.Background(), &appendReq{rec: l.stamp(r)}); err != nil {
		l.o.Log.Error("audit record dropped", "action", r.Action, "err", err)
	}
}

func (l *Log) stamp(r Record) Record {
	if r.Time.IsZero() {
		r.Time = l.o.Clock.Now()
	}
	return r.normalise()
}

func (l *Log) enqueue(ctx context.Context, req *appendReq) error {
	l.sendMu.RLock()
	defer l.sendMu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Head returns the seq of the last durable record and a channel closed
// when a later one becomes durable (for forwarders).
func (l *Log) Head() (int64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head, l.changed
}

func (l *Log) advance(seq int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq > l.head {
		l.head = seq
		close(l.changed)
		l.changed = make(chan struct{})
	}
}

// Close writes what is queued and a last checkpoint, then stops the
// writer. Appends after Close return ErrClosed.
func (l *Log) Close() error {
	l.once.Do(func() {
		l.sendMu.Lock()
		l.closed = true
		l.sendMu.Unlock()
		close(l.quit)
		<-l.stopped
	})
	return nil
}

// writer is the state owned by the writer goroutine.
type writer struct {
	o       Options
	l       *Log
	seq     int64  // last written
	hash    []byte // its hash
	uncheck int    // records since the last checkpoint
	pending []*appendReq
}

func (w *writer) loadHead(ctx context.Context) error {
	head, err := w.o.Store.AuditHead(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.seq, w.hash = 0, make([]byte, 32)
	case err != nil:
		return fmt.Errorf("audit: read head: %w", err)
	default:
		w.seq, w.hash = head.Seq, head.Hash
	}
	return nil
}

func (w *writer) run() {
	defer close(w.l.stopped)
	tick := w.o.Clock.NewTimer(w.o.CheckpointInterval)
	defer tick.Stop()
	backoff := time.Duration(0)
	for {
		var retry <-chan time.Time
		if len(w.pending) > 0 {
			retry = time.After(backoff)
		}
		select {
		case <-w.l.quit:
			w.drain()
			return
		case <-tick.C():
			tick.Reset(w.o.CheckpointInterval)
			if w.uncheck > 0 && len(w.pending) == 0 {
				w.commit(nil, true)
			}
			continue
		case r := <-w.l.reqs:
			w.pending = append(w.pending, r)
		case <-retry:
		}
		w.fill()
		if w.commit(w.pending, false) {
			backoff = 0
		} else {
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
		}
	}
}

// fill takes whatever else is queued, up to maxBatch.
func (w *writer) fill() {
	for len(w.pending) < maxBatch {
		select {
		case r := <-w.l.reqs:
			w.pending = append(w.pending, r)
		default:
			return
		}
	}
}

// drain writes everything still queued and a last checkpoint; Close has
// stopped new sends. It gives up after three failures in a row.
func (w *writer) drain() {
	for fails := 0; fails < 3; {
		w.fill()
		if len(w.pending) == 0 {
			break
		}
		if w.commit(w.pending, false) {
			fails = 0
		} else {
			fails++
		}
	}
	for _, r := range w.pending {
		w.o.Log.Error("audit record lost at shutdown: the store refused it", "action", r.rec.Action)
	}
	if len(w.pending) == 0 && w.uncheck > 0 {
		w.commit(nil, true)
	}
}

// commit chains and writes batch (with a checkpoint when due, or when
// forced) and answers its waiters. On failure waiters get the error and
// emitted records stay pending for a retry, chained again from the
// store's head (which someone else may have moved). It reports success.
func (w *writer) commit(batch []*appendReq, forceCheckpoint bool) bool {
	recs := make([]store.AuditRecord, len(batch))
	seq, prev := w.seq, w.hash
	for i, req := range batch {
		seq++
		r := req.rec
		r.Seq, r.Prev = seq, prev
		r.Hash = r.ComputeHash()
		recs[i], prev = toStore(r), r.Hash
	}
	var cp *store.AuditCheckpoint
	if forceCheckpoint || w.uncheck+len(batch) >= w.o.CheckpointEvery {
		if seq > 0 {
			cp = &store.AuditCheckpoint{Seq: seq, Hash: prev, Time: w.o.Clock.Now().UTC(),
				Signature: ed25519.Sign(w.o.Key, checkpointMessage(seq, prev))}
		}
	}
	if len(recs) == 0 && cp == nil {
		return true
	}
	err := w.o.Store.AppendAudit(context.Background(), recs, cp)
	if err != nil {
		w.o.Log.Error("audit append failed", "records", len(recs), "err", err)
		var keep []*appendReq
		for _, req := range batch {
			if req.done != nil {
				req.done <- fmt.Errorf("audit: %w", err)
			} else {
				keep = append(keep, req)
			}
		}
		w.pending = keep
		if herr := w.loadHead(context.Background()); herr != nil {
			w.o.Log.Error("audit head unreadable", "err", herr)
		}
		return false
	}
	w.seq, w.hash = seq, prev
	if cp != nil {
		w.uncheck = 0
	} else {
		w.uncheck += len(batch)
	}
	for i, req := range batch {
		if req.done != nil {
			req.seq = recs[i].Seq
			req.done <- nil
		}
	}
	w.pending = w.pending[:0]
	w.l.advance(seq)
	return true
}
