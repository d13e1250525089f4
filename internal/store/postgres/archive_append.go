package postgres

// Appending to archives: the archive writer's group commit.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// maxAppend bounds one AppendArchive call (store.MaxAppend).
const maxAppend = store.MaxAppend

// archiveLock is the advisory lock key every archive append takes for its
// transaction ("parleyarchive" folded into 63 bits). Appends of one node
// are already serialised by its writer; the lock serialises them across
// nodes sharing the database, so that commits happen in seq order. Without
// it node A could commit seq 11 before node B commits seq 10, and a client
// that saw 11 and later asks for everything after it would never see 10.
const archiveLock int64 = 0x706172_6c65_7961

// archiveRequest is one AppendArchive call waiting for the writer.
type archiveRequest struct {
	ctx   context.Context
	msgs  []store.ArchivedMessage // stamps already resolved and truncated
	words []string                // indexWords of each message, folded by the caller
	done  chan error              // buffered 1 so the writer never waits
}

// AppendArchive stores msgs and returns once they are committed. The
// writer inserts everything queued by all callers with one statement, in
// one transaction (group commit). store.ErrNotFound for an unknown owner,
// store.ErrExists for an id the owner already has; either undoes the
// whole call and no other.
func (s *Store) AppendArchive(ctx context.Context, msgs []store.ArchivedMessage) error {
	if err := <-s.QueueArchive(ctx, msgs); err != nil {
		return fmt.Errorf("postgres: append %d archived messages: %w", len(msgs), err)
	}
	return nil
}

// QueueArchive is AppendArchive without the wait; see store.Archives.
func (s *Store) QueueArchive(ctx context.Context, msgs []store.ArchivedMessage) <-chan error {
	if done := store.EarlyAppend(msgs); done != nil {
		return done
	}
	done := make(chan error, 1) // buffered so the writer never waits
	now := stamp(time.Time{})
	own := make([]store.ArchivedMessage, len(msgs))
	// Folding the text for the index here, in the caller's goroutine,
	// keeps it off the single writer's path: callers fold while the
	// writer commits the batch ahead of them.
	words := make([]string, len(msgs))
	for i, m := range msgs {
		if m.Stamp.IsZero() {
			m.Stamp = now
		} else {
			m.Stamp = stamp(m.Stamp)
		}
		own[i] = m
		words[i] = indexWords(m.Owner, m.Text)
	}
	if s.closed() {
		done <- store.ErrClosed
		return done
	}
	if err := s.archive.Send(ctx, &archiveRequest{ctx: ctx, msgs: own, words: words, done: done}); err != nil {
		done <- err
	}
	return done
}

// SyncArchive returns once every append queued before it has committed;
// see store.Archives. It is a barrier in the archive writer's queue,
// answered after the batch it lands in has committed.
func (s *Store) SyncArchive(ctx context.Context) error {
	if s.closed() {
		return store.ErrClosed
	}
	return s.archive.Sync(ctx)
}

// archiveWeight is a request's share of a batch: its rows. A batch holds
// at most 4*maxAppend messages.
func archiveWeight(r *archiveRequest) int { return len(r.msgs) }

// commitArchive stores a batch of the archive writer and answers every
// request. Statements run
// under a context of their own (see commit).
func (s *Store) commitArchive(batch []*archiveRequest) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// The plain statement first; a taken id or an unknown owner fails it,
	// and the batch is redone carefully (see insertArchive). An owner
	// deleted between the careful statement's check and its insert fails
	// the owner check (archive_count_add: foreign_key_violation) and undoes
	// the batch; the next attempt no longer sees the owner. More than a
	// few such races in a row is an outage.
	errs, err := s.insertArchive(context.Background(), live, false)
	for range 3 {
		if isCode(err, foreignKeyViolation) {
			s.redone.Add(int64(len(live)))
		} else if !isCode(err, uniqueViolation) {
			break
		}
		errs, err = s.insertArchive(context.Background(), live, true)
	}
	for i, r := range live {
		if err != nil {
			r.done <- err
		} else {
			r.done <- errs[i]
		}
	}
}

// insertArchive stores the rows of every request with one INSERT in one
// transaction. When careful, it leaves out rows whose owner is unknown or
// whose id the owner already has (or that an earlier row of the batch
// took); a request that lost a row gets its other rows deleted again
// before COMMIT, and its own error: store.ErrNotFound or store.ErrExists.
// Rows go in batch order, so seq ascends in arrival order.
//
// Not careful, a taken id fails the statement with uniqueViolation and an
// unknown owner with foreignKeyViolation, and the caller redoes the batch
// carefully. Ids are minted by the server and owners are rarely unknown,
// so that is rare, and the care is not free: ON CONFLICT probes the
// (owner, id) index before every row and inserts each row speculatively
// (~13% of the server's CPU per row, measured in 17_archive_cost.md), and
// the owner filter joins archive_owners.
func (s *Store) insertArchive(ctx context.Context, batch []*archiveRequest, careful bool) ([]error, error) {
	n := 0
	for _, r := range batch {
		n += len(r.msgs)
	}
	var (
		owners, ids, withs, bodies, words = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		stamps                            = make([]time.Time, 0, n)
		stanzas                           = make([][]byte, 0, n)
	)
	for _, r := range batch {
		for i, m := range r.msgs {
			owners = append(owners, m.Owner)
			ids = append(ids, m.ID)
			withs = append(withs, m.With)
			stamps = append(stamps, m.Stamp)
			stanzas = append(stanzas, nonNil(m.Stanza))
			bodies = append(bodies, m.Text)
			words = append(words, r.words[i])
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	var b pgx.Batch
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, archiveLock)
	where, onConflict := "", ""
	if careful {
		where = "WHERE EXISTS (SELECT 1 FROM archive_owners o WHERE o.owner = m.owner)"
		onConflict = "ON CONFLICT (owner, id) DO NOTHING"
	}
	b.Queue(`INSERT INTO archive (owner, id, with_jid, stamp, stanza, body, words)
		SELECT m.owner, m.id, m.with_jid, m.stamp, m.stanza, m.body, array_to_tsvector(string_to_array(m.words, ' '))
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bytea[], $6::text[], $7::text[])
			WITH ORDINALITY AS m (owner, id, with_jid, stamp, stanza, body, words, n)
		`+where+`
		ORDER BY m.n
		`+onConflict+`
		RETURNING seq, owner, id`, owners, ids, withs, stamps, stanzas, bodies, words)
	br := tx.SendBatch(ctx, &b)
	type key struct{ owner, id string }
	inserted := make(map[key]int64, n)
	_, err = br.Exec()
	if err == nil {
		var rows pgx.Rows
		rows, err = br.Query()
		if err == nil {
			var seq int64
			var k key
			_, err = pgx.ForEachRow(rows, []any{&seq, &k.owner, &k.id}, func() error {
				inserted[k] = seq
				return nil
			})
		}
	}
	if err = errors.Join(err, br.Close()); err != nil {
		return nil, err
	}

	// Give each inserted row to the first request that proposed it; a
	// request missing any row failed.
	errs := make([]error, len(batch))
	var undo []int64
	var failedOwners []string
	claimed := make(map[key]bool, len(inserted))
	for i, r := range batch {
		var mine []int64
		for _, m := range r.msgs {
			k := key{m.Owner, m.ID}
			if seq, ok := inserted[k]; ok && !claimed[k] {
				claimed[k] = true
				mine = append(mine, seq)
				continue
			}
			errs[i] = store.ErrExists
			failedOwners = append(failedOwners, m.Owner)
		}
		if errs[i] != nil {
			undo = append(undo, mine...)
		}
	}
	if len(failedOwners) > 0 {
		known, err := tx.Query(ctx, `SELECT owner FROM archive_owners WHERE owner = ANY($1)`, failedOwners)
		if err != nil {
			return nil, err
		}
		exists, err := pgx.CollectRows(known, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for i, r := range batch {
			if errs[i] == nil {
				continue
			}
			for _, m := range r.msgs {
				if !slices.Contains(exists, m.Owner) {
					errs[i] = store.ErrNotFound
				}
			}
		}
	}
	if len(undo) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM archive WHERE seq = ANY($1)`, undo); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	s.commits.Add(1)
	return errs, nil
}
