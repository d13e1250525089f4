package router

import (
	"context"
	"errors"
	"sync"
)

// Pending collects the durable writes (archive commits) started while a
// session's stanza was routed, so that the session can go on reading
// instead of waiting for each commit, and wait for them only where it
// promises durability: before it acknowledges stanzas (XEP-0198 <a/>).
// Writes are awaited in the order they were started.
type Pending struct {
	mu     sync.Mutex // guards waits and failed
	waits  []<-chan error
	failed []error // outcomes Defer had to wait for itself
}

func (p *Pending) fail(err error) {
	p.mu.Lock()
	p.failed = append(p.failed, err)
	p.mu.Unlock()
}

// maxPending bounds the writes one session may have in flight; beyond it
// Defer waits for the oldest (backpressure on a client that never asks for
// acknowledgements).
const maxPending = 256

type pendingKey struct{}

// WithPending returns a context under which Defer adds writes to p.
func WithPending(ctx context.Context, p *Pending) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// Defer hands the outcome of a started write to the Pending of ctx and
// reports true; without one it reports false and the caller waits itself.
func Defer(ctx context.Context, done <-chan error) bool {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	if p == nil {
		return false
	}
	p.mu.Lock()
	p.waits = append(p.waits, done)
	var oldest <-chan error
	if len(p.waits) > maxPending {
		oldest = p.waits[0]
		p.waits = p.waits[1:]
	}
	p.mu.Unlock()
	if oldest != nil {
		if err := <-oldest; err != nil {
			p.fail(err)
		}
	}
	return true
}

// Wait waits for every write deferred so far and returns their errors.
func (p *Pending) Wait() error {
	p.mu.Lock()
	waits := p.waits
	p.waits = nil
	p.mu.Unlock()
	var errs []error
	for _, w := range waits {
		if err := <-w; err != nil {
			errs = append(errs, err)
		}
	}
	p.mu.Lock()
	errs = append(errs, p.failed...)
	p.failed = nil
	p.mu.Unlock()
	return errors.Join(errs...)
}
