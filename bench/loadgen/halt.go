package loadgen

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// errStopped ends a wait because the run is stopping; the reason is the
// run's error, if any.
var errStopped = errors.New("the run stopped")

// halt is how a run with many goroutines stops: at its time, or at the
// first failure, whose error it keeps. Failures once the run closes its
// connections on purpose are expected and dropped.
type halt struct {
	stop    chan struct{} // closed when the run stops
	once    sync.Once     // closes stop
	closing atomic.Bool   // the run is closing its connections

	mu  sync.Mutex // guards err
	err error
}

func newHalt() *halt { return &halt{stop: make(chan struct{})} }

// Stop stops the run without an error.
func (h *halt) Stop() { h.once.Do(func() { close(h.stop) }) }

// Fail stops the run with err, unless it failed already or is closing.
func (h *halt) Fail(err error) {
	if h.closing.Load() || errors.Is(err, errStopped) {
		return
	}
	h.mu.Lock()
	if h.err == nil {
		h.err = err
	}
	h.mu.Unlock()
	h.Stop()
}

// Err is the first failure, or nil.
func (h *halt) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// drain waits after the senders stopped until arrived reports that what
// was sent has arrived: drainBound at the most, and not after a failure.
// What has not arrived by then counts as lost.
func (h *halt) drain(arrived func() bool) {
	end := time.Now().Add(drainBound)
	for time.Now().Before(end) && h.Err() == nil && !arrived() {
		time.Sleep(5 * time.Millisecond)
	}
}
