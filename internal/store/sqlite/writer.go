package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
	// insert, when set instead of fn, is an INSERT of rows that the writer
	// merges with the other requests' rows for the same table into one
	// statement per batch (see applyInserts).
	insert *insertRows
}

// insertRows is a multi-row INSERT: head is "INSERT INTO t (cols) VALUES ",
// row the placeholder group "(?,?,…)", args the values of every row.
type insertRows struct {
	head, row string
	args      []any
	rows      int
	mapErr    func(error) error // turns a driver error into the caller's error
}

// maxInsertArgs bounds the values bound in one merged statement, far below
// SQLite's limit of 32766 variables.
const maxInsertArgs = 30000

// write runs fn in the writer goroutine and returns after its transaction
// has committed (or fn failed). Once the writer has taken the request the
// caller waits for the definite outcome even if ctx ends: a write that may
// or may not have happened is worse than one batch of latency.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := s.enqueue(r); err != nil {
		return err
	}
	return <-r.done
}

// enqueue hands r to the writer (internal/store/batch) without waiting for
// its outcome, which arrives on r.done. Requests enqueued by one goroutine
// run in that order.
func (s *Store) enqueue(r *request) error { return s.writer.Send(r.ctx, r) }

// commit runs batch in one transaction and answers every request; the
// writer calls it for each batch.
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
	applyInserts(tx, batch)
	for _, r := range batch {
		if r.insert != nil {
			continue // done by applyInserts
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err // gave up before we started: do nothing for it
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

// applyInserts runs the batch's row inserts, one statement per table (and
// per maxInsertArgs values) instead of one per request. Besides the
// per-statement overhead this matters for the archive's full-text index,
// which FTS5 flushes to disk at every statement. If a merged statement
// fails (one caller's duplicate id, say), nothing of it was applied and
// each request of that group runs alone to get its own answer.
func applyInserts(tx *sql.Tx, batch []*request) {
	var group []*request
	flush := func() {
		if len(group) == 0 {
			return
		}
		defer func() { group = group[:0] }()
		var q strings.Builder
		q.WriteString(group[0].insert.head)
		var args []any
		for i, r := range group {
			for j := range r.insert.rows {
				if i+j > 0 {
					q.WriteByte(',')
				}
				q.WriteString(r.insert.row)
			}
			args = append(args, r.insert.args...)
		}
		if _, err := tx.Exec(q.String(), args...); err == nil {
			return // every request's r.err stays nil
		}
		for _, r := range group {
			r.err = execRows(tx, r.insert)
		}
	}
	n := 0
	for _, r := range batch {
		if r.insert == nil {
			continue
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if len(group) > 0 && (group[0].insert.head != r.insert.head || n+len(r.insert.args) > maxInsertArgs) {
			flush()
			n = 0
		}
		group = append(group, r)
		n += len(r.insert.args)
	}
	flush()
}

// execRows runs one request's rows as their own statement.
func execRows(tx *sql.Tx, ins *insertRows) error {
	var q strings.Builder
	q.WriteString(ins.head)
	for i := range ins.rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(ins.row)
	}
	_, err := tx.Exec(q.String(), ins.args...)
	if err != nil && ins.mapErr != nil {
		err = ins.mapErr(err)
	}
	return err
}

func rollback(tx *sql.Tx, err error) error {
	return fmt.Errorf("sqlite: batch: %w", errors.Join(err, tx.Rollback()))
}
