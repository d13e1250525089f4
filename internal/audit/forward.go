package audit

import (
	"context"
	"log/slog"
	"time"

	"parley/internal/store"
)

// ForwarderOptions configure a Forwarder.
type ForwarderOptions struct {
	// Name keys the sink's durable cursor in the store.
	Name  string
	Sink  Sink
	Log   *Log
	Store store.Audit
	// Backlog, when set, is told how many records the sink has yet to
	// confirm, whenever that changes (the parley_audit_sink_backlog
	// metric).
	Backlog func(n int64)
	Logger  *slog.Logger // nil: slog.Default()
}

// Forwarder sends the log to one sink, in seq order, from the sink's
// durable cursor (the last seq it confirmed): a receiver that is away
// gets everything it missed when it returns, with backoff meanwhile.
type Forwarder struct {
	o       ForwarderOptions
	quit    chan struct{}
	stopped chan struct{}
}

// Batch and backoff bounds of a forwarder.
const (
	forwardBatch = 256
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 30 * time.Second
)

// Forward starts forwarding; Close stops it.
func Forward(o ForwarderOptions) *Forwarder {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	f := &Forwarder{o: o, quit: make(chan struct{}), stopped: make(chan struct{})}
	go f.run()
	return f
}

// Close stops the forwarder and closes its sink.
func (f *Forwarder) Close() {
	select {
	case <-f.quit:
	default:
		close(f.quit)
	}
	<-f.stopped
}

type written struct {
	seq int64
	at  time.Time
}

// forwarding is the state owned by the forwarder's goroutine.
type forwarding struct {
	*Forwarder
	ctx         context.Context
	cursor      int64     // durable: confirmed by the sink and persisted
	sent        int64     // written to the sink, maybe not yet confirmed
	unconfirmed []written // writes after cursor, oldest first
	backoff     time.Duration
	failing     bool // the last attempt failed (logged once per outage)
	backlog     int64
}

func (f *Forwarder) run() {
	defer close(f.stopped)
	defer f.o.Sink.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.quit:
			cancel()
		case <-f.stopped:
		}
	}()
	w := &forwarding{Forwarder: f, ctx: ctx, backlog: -1}
	for {
		c, err := f.o.Store.AuditCursor(ctx, f.o.Name)
		if err == nil {
			w.cursor, w.sent = c, c
			break
		}
		if !w.fail("read cursor", err) {
			return
		}
	}
	for w.step() {
	}
}

// step does one round: confirm, send a batch or wait. It returns false
// when the forwarder is to stop.
func (w *forwarding) step() bool {
	head, changed := w.o.Log.Head()
	if len(w.unconfirmed) > 0 && !w.o.Sink.Alive() {
		// The receiver went away after taking writes it may not have
		// read: send them again.
		return w.rewind("receiver gone", nil)
	}
	w.confirm()
	w.report(head)
	if w.sent < head {
		recs, err := Query(w.ctx, w.o.Store, store.AuditQuery{After: w.sent, Limit: forwardBatch})
		if err != nil {
			return w.fail("read records", err)
		}
		if len(recs) == 0 {
			// The head moved on only in memory; wait for it.
			return w.wait(changed)
		}
		if err := w.o.Sink.Write(w.ctx, recs); err != nil {
			return w.rewind("write", err)
		}
		if w.failing {
			w.o.Logger.Info("audit sink back", "sink", w.o.Name)
			w.failing = false
		}
		w.backoff = 0
		w.sent = recs[len(recs)-1].Seq
		w.unconfirmed = append(w.unconfirmed, written{w.sent, time.Now()})
		return true
	}
	return w.wait(changed)
}

// confirm advances the durable cursor over writes old enough to count as
// received.
func (w *forwarding) confirm() {
	cut := time.Now().Add(-w.o.Sink.ConfirmAfter())
	i := 0
	for i < len(w.unconfirmed) && !w.unconfirmed[i].at.After(cut) {
		i++
	}
	if i == 0 {
		return
	}
	seq := w.unconfirmed[i-1].seq
	if err := w.o.Store.SetAuditCursor(w.ctx, w.o.Name, seq); err != nil {
		w.o.Logger.Warn("audit sink cursor not saved", "sink", w.o.Name, "err", err)
		return
	}
	w.cursor = seq
	w.unconfirmed = w.unconfirmed[i:]
}

func (w *forwarding) report(head int64) {
	if n := head - w.cursor; n != w.backlog && w.o.Backlog != nil {
		w.o.Backlog(n)
		w.backlog = n
	}
}

// wait sleeps until the log grows, a write is due for confirmation, or
// the forwarder stops.
func (w *forwarding) wait(changed <-chan struct{}) bool {
	var due <-chan time.Time
	if len(w.unconfirmed) > 0 {
		t := time.NewTimer(time.Until(w.unconfirmed[0].at.Add(w.o.Sink.ConfirmAfter())) + time.Millisecond)
		defer t.Stop()
		due = t.C
	}
	select {
	case <-w.quit:
		return false
	case <-changed:
	case <-due:
	}
	return true
}

// rewind drops the connection and everything not yet confirmed, and
// waits (backing off) before sending again from the durable cursor.
func (w *forwarding) rewind(what string, err error) bool {
	w.o.Sink.Close()
	w.sent, w.unconfirmed = w.cursor, nil
	return w.fail(what, err)
}

// fail logs the first failure of an outage and backs off; false if the
// forwarder is to stop meanwhile.
func (w *forwarding) fail(what string, err error) bool {
	if !w.failing {
		w.o.Logger.Warn("audit sink failing; records wait in the log", "sink", w.o.Name, "op", what, "err", err)
		w.failing = true
	}
	w.backoff = min(max(2*w.backoff, minBackoff), maxBackoff)
	t := time.NewTimer(w.backoff)
	defer t.Stop()
	select {
	case <-w.quit:
		return false
	case <-t.C:
		return true
	}
}
