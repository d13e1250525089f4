package postgres

import (
	"context"
	"time"

	"parley/internal/store"
)

// maxBatch bounds one group-commit statement so a flood of writes still
// sees commits (and replies) at a steady pace.
const maxBatch = 512

// offlineRequest is one StoreOffline call waiting for the writer.
type offlineRequest struct {
	ctx      context.Context
	username string
	stamp    time.Time
	stanza   []byte
	done     chan error // buffered 1 so run never waits for a caller
}

// storeOffline hands one message to the offline writer and returns after
// the transaction holding it has committed (or failed). Once the message
// is queued the caller waits for the definite outcome even if ctx ends: a
// write that may or may not have happened is worse than one batch of
// latency.
func (s *Store) storeOffline(ctx context.Context, r *offlineRequest) error {
	if s.closed() {
		return store.ErrClosed
	}
	if err := s.offline.Send(ctx, r); err != nil {
		return err
	}
	return <-r.done
}

// commit stores a batch of the offline writer (internal/store/batch) and
// answers every request. The statements run
// under a context of their own, not a caller's: a cancelled statement
// would abort the whole transaction, other callers' messages too.
func (s *Store) commit(batch []*offlineRequest) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // gave up before we started: do nothing for it
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background()
	stored, err := s.insertOffline(ctx, live)
	if isCode(err, foreignKeyViolation) {
		// An account was deleted between the statement's check and its
		// insert (see insertOffline): rare enough to redo one by one.
		s.redone.Add(int64(len(live)))
		for _, r := range live {
			r.done <- s.insertOne(ctx, r)
		}
		return
	}
	for _, r := range live {
		switch {
		case err != nil:
			r.done <- err
		case !stored[r.username]:
			r.done <- store.ErrNotFound
		default:
			r.done <- nil
		}
	}
}

// insertOffline stores batch with one statement, which PostgreSQL runs
// as one transaction: one round trip and one WAL flush for the lot. Rows
// for accounts that do not exist are left out by the statement itself
// rather than failing it, since one failing row would undo every other;
// it returns the usernames whose messages it stored, so everyone else's
// request gets store.ErrNotFound. Rows are inserted in batch order, so
// IDs ascend in arrival order.
func (s *Store) insertOffline(ctx context.Context, batch []*offlineRequest) (map[string]bool, error) {
	users := make([]string, len(batch))
	stamps := make([]time.Time, len(batch))
	stanzas := make([][]byte, len(batch))
	for i, r := range batch {
		users[i], stamps[i], stanzas[i] = r.username, r.stamp, r.stanza
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO offline (username, stamp, stanza)
		SELECT m.username, m.stamp, m.stanza
		FROM unnest($1::text[], $2::timestamptz[], $3::bytea[]) WITH ORDINALITY AS m (username, stamp, stanza, n)
		WHERE EXISTS (SELECT 1 FROM users u WHERE u.username = m.username)
		ORDER BY m.n
		RETURNING username`, users, stamps, stanzas)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	stored := make(map[string]bool)
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		stored[u] = true
	}
	// Err waits for ReadyForQuery, which the server sends after COMMIT.
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.commits.Add(1)
	return stored, nil
}

// insertOne stores one message in its own transaction.
func (s *Store) insertOne(ctx context.Context, r *offlineRequest) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO offline (username, stamp, stanza) VALUES ($1, $2, $3)`,
		r.username, r.stamp, r.stanza)
	if err != nil {
		return missingUser(err)
	}
	s.commits.Add(1)
	return nil
}
