package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/store"
	"parley/internal/store/batch"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// ArchiveQueries is how many archive queries (QueryArchive) may hold
	// a pool connection at once; more wait for a place, so that the rest
	// of the pool stays free for logins and every other query. Default
	// half the pool (pool_max_conns), at least 1.
	ArchiveQueries int
}

// Store is a store.Store in a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	// archiveShare bounds the archive queries holding a connection at
	// once (see Options.ArchiveQueries).
	archiveShare *store.Share

	offline   *batch.Writer[*offlineRequest] // group commit of StoreOffline (commit)
	archive   *batch.Writer[*archiveRequest] // group commit of archive appends (commitArchive)
	closing   atomic.Bool                    // Close has begun: writes fail with store.ErrClosed
	closeOnce sync.Once

	commits atomic.Int64 // offline and archive transactions committed by the writers; tests check batching
	redone  atomic.Int64 // messages retried after their batch failed

	store.SQLMethods // what both backends share above their SQL (sqlDB)
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value
// string as pgx accepts, including pool_max_conns), migrates its schema
// and starts the offline and archive writers. Close releases it.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts passwords from its message only on a best-effort
		// basis, so say what is wrong without quoting the string.
		return nil, errors.New("postgres: cannot parse the connection string (not shown: it may hold a password)")
	}
	// Durability: a caller is answered after COMMIT, and COMMIT must mean
	// the WAL reached the disk, because stanzas are acknowledged
	// (XEP-0198) as stored. Insist on that even if the server's default is
	// off, unless the connection string itself says otherwise.
	if _, set := cfg.ConnConfig.RuntimeParams["synchronous_commit"]; !set {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	// Waits, within ctx, for another node that is migrating the same
	// database.
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	if opts.ArchiveQueries <= 0 {
		opts.ArchiveQueries = int(cfg.MaxConns) / 2
	}
	s := &Store{
		pool:         pool,
		opts:         opts,
		archiveShare: store.NewShare(opts.ArchiveQueries),
	}
	s.offline = batch.New(batch.Options[*offlineRequest]{Commit: s.commit, MaxRequests: maxBatch, Closed: store.ErrClosed})
	s.archive = batch.New(batch.Options[*archiveRequest]{Commit: s.commitArchive, Weight: archiveWeight,
		MaxRequests: maxBatch, MaxWeight: 4 * maxAppend, Closed: store.ErrClosed})
	s.SQLMethods = store.NewSQLMethods("postgres", (*sqlDB)(s))
	return s, nil
}

// Close stops the offline and archive writers once they have committed
// (and answered) every request already queued, then closes the pool,
// waiting for calls in progress to give their connections back. Writes
// after Close has begun return store.ErrClosed. Calling Close again does
// nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		// From here every write fails with store.ErrClosed; the writers, closed
		// together, commit (and answer) everything queued, then stop.
		s.closing.Store(true)
		var wg sync.WaitGroup
		wg.Go(s.offline.Close)
		wg.Go(s.archive.Close)
		wg.Wait()
		s.pool.Close()
	})
	return nil
}

// closed reports whether Close has begun; writes check it so they fail
// with store.ErrClosed rather than with the pool's own error.
func (s *Store) closed() bool { return s.closing.Load() }

// SQLSTATE codes this package tells apart.
const (
	foreignKeyViolation = "23503"
	uniqueViolation     = "23505"
)

// isCode reports whether err is a PostgreSQL error with the given SQLSTATE.
func isCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

// missingUser turns the foreign-key violation of writing data for an
// account that does not exist into store.ErrNotFound.
func missingUser(err error) error {
	if isCode(err, foreignKeyViolation) {
		return store.ErrNotFound
	}
	return err
}

// nonNil stores an absent blob as an empty one: pgx sends a nil slice as
// NULL, and the columns are NOT NULL so a reader never has to tell NULL
// from empty.
func nonNil[T any](b []T) []T {
	if b == nil {
		return []T{}
	}
	return b
}

// stamp is the time to store for t: the zero time means now. PostgreSQL
// keeps microseconds; truncating here (rather than letting the server
// round) means a stored "now" is never later than the call returned.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.Truncate(time.Microsecond)
}
