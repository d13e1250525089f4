package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"
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
	s.checkpoints.committed(s.w)
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

// Checkpoints. A checkpoint copies the pages committed to the WAL into the
// database file and syncs it. SQLite's default runs it inside the COMMIT
// that fills the WAL past wal_autocheckpoint pages, so one batch in every
// few waits for it with its callers. Here a goroutine with a connection
// of its own runs it (PASSIVE: it never blocks the writer) once the
// writer has committed checkpointPages pages since the last one, while
// the writer goes on committing. Durability is unchanged: a commit is
// acknowledged once the WAL holds it; the checkpoint only moves committed
// pages.
//
// A passive checkpoint leaves the frames committed while it ran, so under
// a steady stream of commits the WAL would never be wholly copied and
// restarted from its beginning, and would grow. The writer's own
// wal_autocheckpoint (walLimit pages) stays as a backstop that copies
// what is left and lets the WAL restart; by then the checkpointer has
// copied all but its last pages.
const (
	// checkpointPages: fewer, larger checkpoints copy a page rewritten by
	// many commits (an owner's index leaf) once instead of several times
	// (17_archive_cost.md: 1,000 -> 4,000 pages wrote 15% fewer bytes).
	checkpointPages = 4000
	// walLimit is the writer's wal_autocheckpoint.
	walLimit = 4 * checkpointPages
)

// checkpointer runs checkpoints for the writer (see checkpointPages).
type checkpointer struct {
	db      *sql.DB       // its own read-write connection
	kick    chan struct{} // buffered 1: a checkpoint is due
	stopped chan struct{} // closed when run returns
	pages   int           // WAL pages committed since the last kick; the writer's goroutine only
	done    atomic.Int64  // checkpoints run; tests check it
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	for range c.kick {
		// An error (the database busy with another checkpoint, say)
		// leaves the pages to the next one or to the backstop.
		if _, err := c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err == nil {
			c.done.Add(1)
		}
	}
}

// committed counts the pages w's last commit wrote to the WAL and kicks
// the checkpointer when enough have piled up. It runs in the writer's
// goroutine after each commit.
func (c *checkpointer) committed(w *sql.DB) {
	conn, err := w.Conn(context.Background())
	if err != nil {
		return
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		n, _, err := dc.(sqlite.DBStatus).Status(sqlite.DBStatusCacheWrite, true)
		c.pages += n
		return err
	})
	if err != nil || c.pages < checkpointPages {
		return
	}
	c.pages = 0
	select {
	case c.kick <- struct{}{}:
	default: // one is running or due already
	}
}

// close stops the checkpointer once its checkpoint in hand is done; the
// writer must have stopped.
func (c *checkpointer) close() error {
	close(c.kick)
	<-c.stopped
	return c.db.Close()
}
