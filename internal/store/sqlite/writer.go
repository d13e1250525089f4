package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// request is one write for the writer goroutine. fn runs inside the batch
// transaction, under its own savepoint so that its failure undoes only its
// own changes. fn must use tx's context-free methods: a statement
// interrupted by a caller's cancelled context makes SQLite roll back the
// whole transaction, that is, other callers' writes too.
type request struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	err  error
	done chan error // buffered 1 so run never waits for a caller
	// oneStatement marks an fn that runs exactly one statement: SQLite
	// undoes a failed statement by itself, so it needs no savepoint. That
	// matters for tables with a full-text index, which FTS5 flushes at
	// every savepoint release.
	oneStatement bool
}

// write runs fn in the writer goroutine and returns after its transaction
// has committed (or fn failed). Once the writer has taken the request the
// caller waits for the definite outcome even if ctx ends: a write that may
// or may not have happened is worse than one batch of latency.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.submit(&request{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// writeOne is write for an fn that executes exactly one statement.
func (s *Store) writeOne(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.submit(&request{ctx: ctx, fn: fn, done: make(chan error, 1), oneStatement: true})
}

func (s *Store) submit(r *request) error {
	ctx := r.ctx
	select {
	case s.reqs <- r:
	case <-s.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// run is the writer goroutine, owned by the Store and stopped by Close. It
// takes one request, then everything else already waiting, and commits
// them as one transaction.
func (s *Store) run() {
	defer close(s.stopped)
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case <-s.quit:
			return
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
		clear(batch) // drop references to finished requests
	}
}

// commit runs batch in one transaction and answers every request.
func (s *Store) commit(batch []*request) {
	err := s.apply(batch)
	for _, r := range batch {
		if r.err == nil {
			r.err = err
		}
		r.done <- r.err
	}
}

// apply runs each request under a savepoint and commits. A non-nil result
// is a failure of the transaction itself, which every request shares.
func (s *Store) apply(batch []*request) error {
	tx, err := s.w.Begin()
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err // gave up before we started: do nothing for it
			continue
		}
		if r.oneStatement {
			r.err = r.fn(tx) // a failed statement undoes only itself
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			return rollback(tx, err)
		}
		if r.err = r.fn(tx); r.err != nil {
			if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
				return rollback(tx, err)
			}
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			return rollback(tx, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	s.commits.Add(1)
	return nil
}

func rollback(tx *sql.Tx, err error) error {
	return fmt.Errorf("sqlite: batch: %w", errors.Join(err, tx.Rollback()))
}
