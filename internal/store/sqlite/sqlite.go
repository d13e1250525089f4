package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/store"
	"parley/internal/store/batch"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// ArchiveQueries is how many archive queries (QueryArchive) may read
	// at once; more wait for a place. They get read connections of their
	// own, beyond the ones every other read shares, so that searches
	// never make a login wait. Default max(2, GOMAXPROCS/2).
	ArchiveQueries int
}

// Store is a store.Store in one SQLite file. It is safe for concurrent use.
type Store struct {
	w    *sql.DB // the single read-write connection, used only by run
	r    *sql.DB // read-only pool
	opts Options
	// archiveShare bounds the archive queries reading at once (see
	// Options.ArchiveQueries).
	archiveShare *store.Share

	writer    *batch.Writer[*request] // the single writer goroutine; commit stores its batches
	closeOnce sync.Once
	closeErr  error

	commits     atomic.Int64  // transactions committed by run; tests check batching
	checkpoints *checkpointer // runs the WAL's checkpoints off the writer's path

	store.SQLMethods // what both backends share above their SQL (sqlDB)
}

var _ store.Store = (*Store)(nil)

// maxBatch bounds one group-commit transaction so a flood of writes still
// sees commits (and replies) at a steady pace.
const maxBatch = 512

// Open opens or creates the database at path, migrates its schema and
// starts the writer. Close releases it.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A file: URI so SQLite honours mode=ro; the path is escaped so a '?'
	// or '#' in a directory name cannot end it early.
	uri := (&url.URL{Scheme: "file", Path: abs}).String()

	// Durability: the writer runs synchronous=FULL, so a COMMIT has reached
	// the disk (WAL fsynced) before any caller is answered. In WAL mode
	// NORMAL would already survive a killed process, but would lose the
	// last commits on power loss or a kernel crash, and we acknowledge
	// stanzas (XEP-0198) as durably stored. FULL costs one fsync per
	// commit; group commit spreads that fsync over the whole batch.
	// _txlock=immediate takes the write lock at BEGIN, where a busy
	// database is retried by busy_timeout, rather than at the first write.
	// temp_store=MEMORY keeps the statement journal (what undoes one
	// merged INSERT or one savepoint) in memory rather than in a temporary
	// file: it is never read after a crash (the WAL is), and written to a
	// file it cost a fifth of the archive writer's CPU and 40% of its
	// bytes written (docs/design/17_archive_cost.md).
	// wal_autocheckpoint: see checkpointer.
	w, err := sql.Open("sqlite", uri+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walLimit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, err
	}

	// Readers open read-only only after the writer has created the file
	// and switched it to WAL (mode=ro cannot do either).
	r, err := sql.Open("sqlite", uri+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s read-only: %w", path, err)
	}
	if opts.ArchiveQueries <= 0 {
		opts.ArchiveQueries = max(2, runtime.GOMAXPROCS(0)/2)
	}
	// Every read but archive queries shares readers connections; archive
	// queries, held to their share, take at most the ones added for them.
	readers := max(4, runtime.GOMAXPROCS(0)) + opts.ArchiveQueries
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s read-only: %w", path, err)
	}

	c, err := sql.Open("sqlite", uri+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)")
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	s := &Store{
		w:            w,
		r:            r,
		opts:         opts,
		archiveShare: store.NewShare(opts.ArchiveQueries),
		checkpoints:  newCheckpointer(c),
	}
	s.writer = batch.New(batch.Options[*request]{Commit: s.commit, MaxRequests: maxBatch, Closed: store.ErrClosed})
	s.SQLMethods = store.NewSQLMethods("sqlite", (*sqlDB)(s))
	return s, nil
}

// Close stops the writer, after it finishes the batch in hand, and closes
// the database. Writes after Close return store.ErrClosed. Calling Close again
// returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		// The writer commits (and answers) everything queued, then stops.
		s.writer.Close()
		// Readers and checkpoints first: the last connection to close
		// checkpoints the WAL into the main file, and that should be the
		// writer.
		s.closeErr = errors.Join(s.checkpoints.close(), s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// isConstraint reports whether err is SQLite's constraint violation of the
// given extended code (e.g. sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY).
func isConstraint(err error, code int) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == code
}

// missingUser turns the foreign-key violation of writing data for an
// account that does not exist into store.ErrNotFound.
func missingUser(err error) error {
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) {
		return store.ErrNotFound
	}
	return err
}

// nonNil stores an absent blob as an empty one: the columns are NOT NULL so
// a reader never has to tell NULL from empty.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// unixNano stores a time; the zero time, which UnixNano cannot represent,
// means "now".
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		t = time.Now()
	}
	return nanos(t)
}

// nanos is t in Unix nanoseconds, the column type of every time here
// (store.UnixNanos: saturating, not wrapping, outside 1678-2262).
func nanos(t time.Time) int64 { return store.UnixNanos(t) }

func fromUnixNano(n int64) time.Time { return time.Unix(0, n).UTC() }
