package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

var _ store.PEP = (*Store)(nil)

// pepSchema is the migration step for personal eventing nodes (XEP-0163).
// Nodes belong to an account and go with it (ON DELETE CASCADE); items
// belong to their node and go with it. Items are ordered by seq, the order
// of publishing; republishing an id deletes and inserts it, so it becomes
// the newest, as in the SQLite store.
const pepSchema = `
CREATE TABLE pep_nodes (
	owner        text COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	node         text COLLATE "C" NOT NULL,
	access_model text NOT NULL,
	persist      boolean NOT NULL,
	max_items    integer NOT NULL,
	PRIMARY KEY (owner, node)
);

CREATE TABLE pep_items (
	seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner   text COLLATE "C" NOT NULL,
	node    text COLLATE "C" NOT NULL,
	id      text COLLATE "C" NOT NULL,
	payload bytea NOT NULL,
	updated timestamptz NOT NULL,
	FOREIGN KEY (owner, node) REFERENCES pep_nodes (owner, node) ON DELETE CASCADE
);
CREATE UNIQUE INDEX pep_items_id ON pep_items (owner, node, id);
CREATE INDEX pep_items_node ON pep_items (owner, node, seq);
`

// PutPEPNode creates or reconfigures a node, trimming its items to the
// new MaxItems (at least 1); store.ErrNotFound for an unknown owner.
//
// The upsert locks the node row, and the trim is a second statement so
// that under READ COMMITTED it sees every publish committed before the
// lock was granted; in one statement its snapshot could miss one and
// leave a node holding more than MaxItems.
func (s *Store) PutPEPNode(ctx context.Context, owner string, n store.PEPNode) error {
	n.MaxItems = max(n.MaxItems, 1)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO pep_nodes (owner, node, access_model, persist, max_items)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (owner, node) DO UPDATE SET access_model = excluded.access_model,
				persist = excluded.persist, max_items = excluded.max_items`,
			owner, n.Node, n.AccessModel, n.PersistItems, n.MaxItems)
		if err != nil {
			return missingUser(err)
		}
		return trimPEP(ctx, tx, owner, n.Node, n.MaxItems)
	})
	if err != nil {
		return fmt.Errorf("postgres: put pep node %q of %q: %w", n.Node, owner, err)
	}
	return nil
}

// trimPEP keeps the newest keep (at least 1) items of a node: it deletes
// those older than the keep-th newest, and nothing when there are fewer
// (the subquery is then NULL).
func trimPEP(ctx context.Context, tx pgx.Tx, owner, node string, keep int) error {
	_, err := tx.Exec(ctx, `DELETE FROM pep_items WHERE owner = $1 AND node = $2 AND seq <
		(SELECT seq FROM pep_items WHERE owner = $1 AND node = $2 ORDER BY seq DESC OFFSET $3 LIMIT 1)`,
		owner, node, keep-1)
	return err
}

const pepNodeColumns = `node, access_model, persist, max_items`

func scanPEPNode(row pgx.Row) (store.PEPNode, error) {
	var n store.PEPNode
	err := row.Scan(&n.Node, &n.AccessModel, &n.PersistItems, &n.MaxItems)
	return n, err
}

// PEPNode returns one node; store.ErrNotFound.
func (s *Store) PEPNode(ctx context.Context, owner, node string) (store.PEPNode, error) {
	n, err := scanPEPNode(s.pool.QueryRow(ctx, `SELECT `+pepNodeColumns+`
		FROM pep_nodes WHERE owner = $1 AND node = $2`, owner, node))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PEPNode{}, fmt.Errorf("postgres: pep node %q of %q: %w", node, owner, err)
	}
	return n, nil
}

// PEPNodes returns owner's nodes in ascending name byte order, nil for
// none.
func (s *Store) PEPNodes(ctx context.Context, owner string) ([]store.PEPNode, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pepNodeColumns+`
		FROM pep_nodes WHERE owner = $1 ORDER BY node`, owner)
	var out []store.PEPNode
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PEPNode, error) { return scanPEPNode(row) })
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: pep nodes of %q: %w", owner, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// DeletePEPNode removes a node and (by cascade) its items;
// store.ErrNotFound.
func (s *Store) DeletePEPNode(ctx context.Context, owner, node string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM pep_nodes WHERE owner = $1 AND node = $2`, owner, node))
	if err != nil {
		return fmt.Errorf("postgres: delete pep node %q of %q: %w", node, owner, err)
	}
	return nil
}

// PublishPEPItem stores it as the node's newest item and trims the node
// to its MaxItems; store.ErrNotFound if the node does not exist. A zero
// Updated means now.
//
// The node row is locked first (FOR UPDATE), so publishes to one node and
// its reconfiguration take turns: two publishes of one id cannot both
// find it absent and collide on the unique index, seq order is commit
// order within the node, and each later statement sees what the previous
// holder of the lock committed.
func (s *Store) PublishPEPItem(ctx context.Context, owner, node string, it store.PEPItem) error {
	updated := stamp(it.Updated)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var keep int
		err := tx.QueryRow(ctx, `SELECT max_items FROM pep_nodes WHERE owner = $1 AND node = $2 FOR UPDATE`,
			owner, node).Scan(&keep)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pep_items WHERE owner = $1 AND node = $2 AND id = $3`,
			owner, node, it.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pep_items (owner, node, id, payload, updated)
			VALUES ($1, $2, $3, $4, $5)`, owner, node, it.ID, nonNil(it.Payload), updated); err != nil {
			return err
		}
		return trimPEP(ctx, tx, owner, node, keep)
	})
	if err != nil {
		return fmt.Errorf("postgres: publish to pep node %q of %q: %w", node, owner, err)
	}
	return nil
}

// PEPItems returns items oldest first: the newest limit (all when limit
// <= 0), or only those of ids; see store.PEP.
//
// One statement, so the node's existence and its items come from one
// snapshot: the node row drives a LEFT JOIN, so a node without items
// still yields one row (with NULLs) and an unknown node none.
func (s *Store) PEPItems(ctx context.Context, owner, node string, ids []string, limit int) ([]store.PEPItem, error) {
	var only []string // NULL: every item
	if len(ids) > 0 {
		only = ids
	}
	var newest *int // NULL: LIMIT ALL
	if limit > 0 {
		newest = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT i.id, i.payload, i.updated FROM pep_nodes AS n
		LEFT JOIN LATERAL (SELECT seq, id, payload, updated FROM pep_items
			WHERE owner = n.owner AND node = n.node AND ($3::text[] IS NULL OR id = ANY ($3::text[]))
			ORDER BY seq DESC LIMIT $4) AS i ON true
		WHERE n.owner = $1 AND n.node = $2
		ORDER BY i.seq`, owner, node, only, newest)
	if err != nil {
		return nil, fmt.Errorf("postgres: items of pep node %q of %q: %w", node, owner, err)
	}
	var out []store.PEPItem
	found := false
	var id *string // NULL on the one row of a node without items
	var payload []byte
	var updated *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &payload, &updated}, func() error {
		found = true
		if id != nil { // pgx scans each bytea into a new slice
			out = append(out, store.PEPItem{ID: *id, Payload: payload, Updated: updated.UTC()})
		}
		return nil
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: items of pep node %q of %q: %w", node, owner, err)
	}
	return out, nil
}

// RetractPEPItem removes one item; store.ErrNotFound if the node or the
// item does not exist.
func (s *Store) RetractPEPItem(ctx context.Context, owner, node, id string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM pep_items WHERE owner = $1 AND node = $2 AND id = $3`,
		owner, node, id))
	if err != nil {
		return fmt.Errorf("postgres: retract %q from pep node %q of %q: %w", id, node, owner, err)
	}
	return nil
}

// PEPItemSizes returns item IDs and payload lengths, oldest first;
// store.ErrNotFound. octet_length of a TOASTed bytea reads its header,
// not the value. One statement (the node row drives a LEFT JOIN, as in
// PEPItems), so existence and items come from one snapshot.
func (s *Store) PEPItemSizes(ctx context.Context, owner, node string) ([]store.PEPItemSize, error) {
	rows, err := s.pool.Query(ctx, `SELECT i.id, octet_length(i.payload) FROM pep_nodes AS n
		LEFT JOIN pep_items AS i ON i.owner = n.owner AND i.node = n.node
		WHERE n.owner = $1 AND n.node = $2
		ORDER BY i.seq`, owner, node)
	if err != nil {
		return nil, fmt.Errorf("postgres: item sizes of pep node %q of %q: %w", node, owner, err)
	}
	var out []store.PEPItemSize
	found := false
	var id *string // NULL on the one row of a node without items
	var n *int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		found = true
		if id != nil {
			out = append(out, store.PEPItemSize{ID: *id, Bytes: *n})
		}
		return nil
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: item sizes of pep node %q of %q: %w", node, owner, err)
	}
	return out, nil
}

// PEPUsage counts owner's nodes, items and payload bytes.
func (s *Store) PEPUsage(ctx context.Context, owner string) (store.PEPUsage, error) {
	var u store.PEPUsage
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pep_nodes WHERE owner = $1),
		count(*), coalesce(sum(octet_length(payload)), 0) FROM pep_items WHERE owner = $1`, owner).
		Scan(&u.Nodes, &u.Items, &u.Bytes)
	if err != nil {
		return store.PEPUsage{}, fmt.Errorf("postgres: pep usage of %q: %w", owner, err)
	}
	return u, nil
}

// inTx runs fn in a transaction on the pool, committing if it returns nil,
// unless the store is closed.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.closed() {
		return store.ErrClosed
	}
	return pgx.BeginFunc(ctx, s.pool, fn)
}
