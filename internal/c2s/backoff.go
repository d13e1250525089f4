package c2s

import (
	"sync"
	"time"
)

// backoff slows down password guessing: each failed authentication from an
// address doubles the delay before the next failure answer, up to a cap,
// and the count fades after a quiet period.
type backoff struct {
	free int           // failures answered at once
	max  time.Duration // longest delay

	mu    sync.Mutex // guards fails
	fails map[string]failRecord
}

type failRecord struct {
	n    int
	last time.Time
}

const (
	backoffBase   = 250 * time.Millisecond
	backoffMax    = 8 * time.Second
	backoffForget = 15 * time.Minute
	backoffLimit  = 100000 // addresses remembered; beyond it, the oldest go
)

func newBackoff(free int, max time.Duration) *backoff {
	return &backoff{free: free, max: max, fails: make(map[string]failRecord)}
}

// failed records a failure and returns how long to wait before answering.
func (b *backoff) failed(key string) time.Duration {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.fails[key]
	if now.Sub(r.last) > backoffForget {
		r.n = 0
	}
	r.n++
	r.last = now
	if len(b.fails) >= backoffLimit {
		b.prune(now)
	}
	b.fails[key] = r
	if r.n <= b.free {
		return 0
	}
	d := backoffBase << min(r.n-b.free-1, 10)
	return min(d, b.max)
}

// succeeded forgets an address's failures.
func (b *backoff) succeeded(key string) {
	b.mu.Lock()
	delete(b.fails, key)
	b.mu.Unlock()
}

// prune drops records older than backoffForget, or all if none is.
func (b *backoff) prune(now time.Time) {
	for k, r := range b.fails {
		if now.Sub(r.last) > backoffForget {
			delete(b.fails, k)
		}
	}
	if len(b.fails) >= backoffLimit {
		clear(b.fails)
	}
}
