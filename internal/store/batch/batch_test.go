package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errClosed = errors.New("closed")

// req is a test request: its value, and where the writer answers it.
type req struct {
	n    int
	done chan int // the batch number it was committed in
}

// recorder commits batches into memory; gate, when not nil, holds each
// commit until it is received from.
type recorder struct {
	mu      sync.Mutex
	batches [][]int // guarded by mu
	gate    chan struct{}
	entered atomic.Int32 // commits that have started
}

func (r *recorder) commit(batch []*req) {
	r.entered.Add(1)
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	var ns []int
	for _, q := range batch {
		ns = append(ns, q.n)
	}
	r.batches = append(r.batches, ns)
	k := len(r.batches)
	r.mu.Unlock()
	for _, q := range batch {
		q.done <- k
	}
}

func newReq(n int) *req { return &req{n: n, done: make(chan int, 1)} }

// TestBatches: requests queued while a commit runs form the next batch,
// up to MaxRequests and MaxWeight, in queue order.
func TestBatches(t *testing.T) {
	for i, tc := range []struct {
		maxReqs, maxWeight int
		weight             func(*req) int
		want               [][]int
	}{
		0: {4, 0, nil, [][]int{{0}, {1, 2, 3, 4}, {5, 6, 7, 8}, {9}}},
		1: {100, 6, func(r *req) int { return r.n }, [][]int{{0}, {1, 2, 3}, {4, 5}, {6}, {7}, {8}, {9}}},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			rec := &recorder{gate: make(chan struct{})}
			w := New(Options[*req]{Commit: rec.commit, Weight: tc.weight, MaxRequests: tc.maxReqs, MaxWeight: tc.maxWeight, Closed: errClosed})
			defer w.Close()
			reqs := make([]*req, 10)
			for n := range reqs {
				reqs[n] = newReq(n)
			}
			if err := w.Send(t.Context(), reqs[0]); err != nil {
				t.Fatal(err)
			}
			// Once the writer holds request 0 in its commit, the rest
			// queue behind it (and wait for room in the queue).
			waitFor(t, func() bool { return len(w.queue) == 0 })
			var sent atomic.Int32
			go func() {
				for _, r := range reqs[1:] {
					if err := w.Send(context.Background(), r); err != nil {
						panic(err)
					}
					sent.Add(1)
				}
			}()
			// Each batch is taken when the commit before it ends: release
			// a commit only once the next one's requests are all queued.
			for k := range len(tc.want) {
				waitFor(t, func() bool {
					return int(rec.entered.Load()) == k+1 && (sent.Load() == 9 || len(w.queue) == cap(w.queue))
				})
				rec.gate <- struct{}{}
			}
			for _, r := range reqs {
				<-r.done
			}
			if !slices.EqualFunc(rec.batches, tc.want, slices.Equal) {
				t.Fatalf("batches %v, want %v", rec.batches, tc.want)
			}
		})
	}
}

// TestSync: Sync returns only after every request sent before it has been
// committed, and a Sync alone commits nothing.
func TestSync(t *testing.T) {
	rec := &recorder{}
	w := New(Options[*req]{Commit: rec.commit, Closed: errClosed})
	defer w.Close()
	if err := w.Sync(t.Context()); err != nil || len(rec.batches) != 0 {
		t.Fatalf("Sync on an empty queue: %v, %d batches", err, len(rec.batches))
	}
	var reqs []*req
	for n := range 50 {
		reqs = append(reqs, newReq(n))
		if err := w.Send(t.Context(), reqs[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	for n, r := range reqs {
		select {
		case <-r.done:
		default:
			t.Fatalf("request %d not committed when Sync returned", n)
		}
	}
}

// TestCloseDrainsAndRefuses: once Close has begun, Send and Sync fail
// with Options.Closed at once, while everything queued before it is still
// committed (the writer held in a commit meanwhile) before Close returns;
// Close twice is fine.
func TestCloseDrainsAndRefuses(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	w := New(Options[*req]{Commit: rec.commit, MaxRequests: 8, Closed: errClosed})
	var reqs []*req
	for n := range 8 {
		reqs = append(reqs, newReq(n))
		if err := w.Send(t.Context(), reqs[n]); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() {
		w.Close()
		close(closed)
	}()
	waitFor(t, w.Closing)
	if err := w.Send(t.Context(), newReq(9)); !errors.Is(err, errClosed) {
		t.Fatalf("Send after Close began: %v", err)
	}
	if err := w.Sync(t.Context()); !errors.Is(err, errClosed) {
		t.Fatalf("Sync after Close began: %v", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while queued requests were not committed")
	default:
	}
	close(rec.gate) // every commit may go on
	<-closed
	for n, r := range reqs {
		select {
		case <-r.done:
		default:
			t.Fatalf("request %d queued before Close was not committed", n)
		}
	}
	w.Close()
}

// TestSendFullQueueHonoursContext: a caller blocked on a full queue
// leaves when its context ends.
func TestSendFullQueueHonoursContext(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	w := New(Options[*req]{Commit: rec.commit, MaxRequests: 2, Closed: errClosed})
	defer func() {
		close(rec.gate) // every commit may go on
		w.Close()
	}()
	w.Send(t.Context(), newReq(0)) //nolint:errcheck // fills the writer
	waitFor(t, func() bool { return len(w.queue) == 0 })
	w.Send(t.Context(), newReq(1)) //nolint:errcheck // fills the queue
	w.Send(t.Context(), newReq(2)) //nolint:errcheck
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := w.Send(ctx, newReq(3)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send on a full queue: %v", err)
	}
}

// TestNoGoroutineLeak: every writer's goroutine ends with Close.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		rec := &recorder{}
		w := New(Options[*req]{Commit: rec.commit, Closed: errClosed})
		r := newReq(1)
		if err := w.Send(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		<-r.done
		w.Close()
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
