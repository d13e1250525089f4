package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"parley/internal/store"
)

var _ store.PEP = (*Store)(nil)

// pepSchema is the migration step for personal eventing nodes (XEP-0163).
// Items are ordered by seq, the order of publishing; republishing an id
// deletes and inserts it, so it becomes the newest.
const pepSchema = `
CREATE TABLE pep_nodes (
	owner        TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	node         TEXT NOT NULL,
	access_model TEXT NOT NULL,
	persist      INTEGER NOT NULL,
	max_items    INTEGER NOT NULL,
	PRIMARY KEY (owner, node)
) WITHOUT ROWID;

CREATE TABLE pep_items (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	owner   TEXT NOT NULL,
	node    TEXT NOT NULL,
	id      TEXT NOT NULL,
	payload BLOB NOT NULL,
	updated INTEGER NOT NULL, -- Unix nanoseconds
	FOREIGN KEY (owner, node) REFERENCES pep_nodes(owner, node) ON DELETE CASCADE
);
CREATE UNIQUE INDEX pep_items_id ON pep_items (owner, node, id);
CREATE INDEX pep_items_node ON pep_items (owner, node, seq);
`

// PutPEPNode creates or reconfigures a node; store.ErrNotFound for an
// unknown owner.
func (s *Store) PutPEPNode(ctx context.Context, owner string, n store.PEPNode) error {
	n.MaxItems = max(n.MaxItems, 1)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO pep_nodes (owner, node, access_model, persist, max_items)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (owner, node) DO UPDATE SET access_model = excluded.access_model,
				persist = excluded.persist, max_items = excluded.max_items`,
			owner, n.Node, n.AccessModel, n.PersistItems, n.MaxItems)
		if err != nil {
			return missingUser(err)
		}
		return trimPEP(tx, owner, n.Node, n.MaxItems)
	})
	if err != nil {
		return fmt.Errorf("sqlite: put pep node %q of %q: %w", n.Node, owner, err)
	}
	return nil
}

// trimPEP keeps the newest keep items of a node.
func trimPEP(tx *sql.Tx, owner, node string, keep int) error {
	_, err := tx.Exec(`DELETE FROM pep_items WHERE owner = ? AND node = ? AND seq NOT IN
		(SELECT seq FROM pep_items WHERE owner = ? AND node = ? ORDER BY seq DESC LIMIT ?)`,
		owner, node, owner, node, keep)
	return err
}

func scanPEPNode(sc interface{ Scan(...any) error }) (store.PEPNode, error) {
	var n store.PEPNode
	err := sc.Scan(&n.Node, &n.AccessModel, &n.PersistItems, &n.MaxItems)
	return n, err
}

// PEPNode returns one node; store.ErrNotFound.
func (s *Store) PEPNode(ctx context.Context, owner, node string) (store.PEPNode, error) {
	n, err := scanPEPNode(s.r.QueryRowContext(ctx, `SELECT node, access_model, persist, max_items
		FROM pep_nodes WHERE owner = ? AND node = ?`, owner, node))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PEPNode{}, fmt.Errorf("sqlite: pep node %q of %q: %w", node, owner, err)
	}
	return n, nil
}

// PEPNodes returns owner's nodes by name.
func (s *Store) PEPNodes(ctx context.Context, owner string) ([]store.PEPNode, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT node, access_model, persist, max_items
		FROM pep_nodes WHERE owner = ? ORDER BY node`, owner)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pep nodes of %q: %w", owner, err)
	}
	defer rows.Close()
	var out []store.PEPNode
	for rows.Next() {
		n, err := scanPEPNode(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: pep nodes of %q: %w", owner, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: pep nodes of %q: %w", owner, err)
	}
	return out, nil
}

// DeletePEPNode removes a node and its items; store.ErrNotFound.
func (s *Store) DeletePEPNode(ctx context.Context, owner, node string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM pep_nodes WHERE owner = ? AND node = ?`, owner, node))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete pep node %q of %q: %w", node, owner, err)
	}
	return nil
}

// PublishPEPItem stores it as the node's newest item; store.ErrNotFound
// if the node does not exist.
func (s *Store) PublishPEPItem(ctx context.Context, owner, node string, it store.PEPItem) error {
	updated := time.Now().UnixNano()
	if !it.Updated.IsZero() {
		updated = nanos(it.Updated)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var keep int
		err := tx.QueryRow(`SELECT max_items FROM pep_nodes WHERE owner = ? AND node = ?`, owner, node).Scan(&keep)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM pep_items WHERE owner = ? AND node = ? AND id = ?`, owner, node, it.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO pep_items (owner, node, id, payload, updated) VALUES (?, ?, ?, ?, ?)`,
			owner, node, it.ID, nonNil(it.Payload), updated); err != nil {
			return err
		}
		return trimPEP(tx, owner, node, keep)
	})
	if err != nil {
		return fmt.Errorf("sqlite: publish to pep node %q of %q: %w", node, owner, err)
	}
	return nil
}

// PEPItems returns items oldest first; see store.PEP.
func (s *Store) PEPItems(ctx context.Context, owner, node string, ids []string, limit int) ([]store.PEPItem, error) {
	items, err := s.pepItems(ctx, owner, node, ids, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: items of pep node %q of %q: %w", node, owner, err)
	}
	return items, nil
}

func (s *Store) pepItems(ctx context.Context, owner, node string, ids []string, limit int) ([]store.PEPItem, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM pep_nodes WHERE owner = ? AND node = ?`, owner, node).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	q := `SELECT seq, id, payload, updated FROM pep_items WHERE owner = ? AND node = ?`
	args := []any{owner, node}
	if len(ids) > 0 {
		list, _ := json.Marshal(ids)
		q += ` AND id IN (SELECT value FROM json_each(?))`
		args = append(args, string(list))
	}
	if limit <= 0 {
		limit = -1 // no limit
	}
	q = `SELECT id, payload, updated FROM (` + q + ` ORDER BY seq DESC LIMIT ?) ORDER BY seq`
	rows, err := tx.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.PEPItem
	for rows.Next() {
		var it store.PEPItem
		var updated int64
		if err := rows.Scan(&it.ID, &it.Payload, &updated); err != nil {
			return nil, err
		}
		it.Updated = fromUnixNano(updated)
		out = append(out, it)
	}
	return out, rows.Err()
}

// RetractPEPItem removes one item; store.ErrNotFound.
func (s *Store) RetractPEPItem(ctx context.Context, owner, node, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM pep_items WHERE owner = ? AND node = ? AND id = ?`, owner, node, id))
	})
	if err != nil {
		return fmt.Errorf("sqlite: retract from pep node %q of %q: %w", node, owner, err)
	}
	return nil
}

// PEPItemSizes returns item IDs and payload lengths, oldest first;
// store.ErrNotFound. SQLite's length() of a BLOB reads the record
// header, not the payload.
func (s *Store) PEPItemSizes(ctx context.Context, owner, node string) ([]store.PEPItemSize, error) {
	out, err := s.pepItemSizes(ctx, owner, node)
	if err != nil {
		return nil, fmt.Errorf("sqlite: item sizes of pep node %q of %q: %w", node, owner, err)
	}
	return out, nil
}

func (s *Store) pepItemSizes(ctx context.Context, owner, node string) ([]store.PEPItemSize, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM pep_nodes WHERE owner = ? AND node = ?`, owner, node).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, length(payload) FROM pep_items
		WHERE owner = ? AND node = ? ORDER BY seq`, owner, node)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.PEPItemSize
	for rows.Next() {
		var it store.PEPItemSize
		if err := rows.Scan(&it.ID, &it.Bytes); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// PEPUsage counts owner's nodes, items and payload bytes.
func (s *Store) PEPUsage(ctx context.Context, owner string) (store.PEPUsage, error) {
	var u store.PEPUsage
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pep_nodes WHERE owner = ?),
		count(*), coalesce(sum(length(payload)), 0) FROM pep_items WHERE owner = ?`, owner, owner).
		Scan(&u.Nodes, &u.Items, &u.Bytes)
	if err != nil {
		return store.PEPUsage{}, fmt.Errorf("sqlite: pep usage of %q: %w", owner, err)
	}
	return u, nil
}
