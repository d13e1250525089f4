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

var _ store.PubSub = (*Store)(nil)

// pubsubSchema is the migration step for publish-subscribe nodes
// (XEP-0060): a service's nodes and items, and the affiliations and
// subscriptions of any node (PEP nodes too, under the account's bare JID
// as the service). A node owned by an account goes with it; everything of
// a node goes with the node. Items are ordered by seq, as in pep_items.
const pubsubSchema = `
CREATE TABLE pubsub_nodes (
	service   TEXT NOT NULL,
	node      TEXT NOT NULL,
	owner     TEXT REFERENCES users(username) ON DELETE CASCADE, -- NULL: no account
	max_items INTEGER NOT NULL,
	config    BLOB NOT NULL,
	PRIMARY KEY (service, node)
) WITHOUT ROWID;
CREATE INDEX pubsub_nodes_owner ON pubsub_nodes (owner);

CREATE TABLE pubsub_items (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	service   TEXT NOT NULL,
	node      TEXT NOT NULL,
	id        TEXT NOT NULL,
	publisher TEXT NOT NULL,
	payload   BLOB NOT NULL,
	updated   INTEGER NOT NULL, -- Unix nanoseconds
	FOREIGN KEY (service, node) REFERENCES pubsub_nodes(service, node) ON DELETE CASCADE
);
CREATE UNIQUE INDEX pubsub_items_id ON pubsub_items (service, node, id);
CREATE INDEX pubsub_items_node ON pubsub_items (service, node, seq);

CREATE TABLE pubsub_affiliations (
	service     TEXT NOT NULL,
	node        TEXT NOT NULL,
	jid         TEXT NOT NULL,
	affiliation TEXT NOT NULL,
	PRIMARY KEY (service, node, jid),
	FOREIGN KEY (service, node) REFERENCES pubsub_nodes(service, node) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE pubsub_subscriptions (
	service TEXT NOT NULL,
	node    TEXT NOT NULL,
	jid     TEXT NOT NULL,
	subid   TEXT NOT NULL,
	state   TEXT NOT NULL,
	options BLOB NOT NULL,
	PRIMARY KEY (service, node, jid, subid),
	FOREIGN KEY (service, node) REFERENCES pubsub_nodes(service, node) ON DELETE CASCADE
) WITHOUT ROWID;
`

// nodeMissing turns a foreign key failure of a row under a node into
// store.ErrNotFound: the node does not exist.
var nodeMissing = missingUser

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// PutPubSubNode creates or reconfigures a node; store.ErrNotFound for an
// unknown owner.
func (s *Store) PutPubSubNode(ctx context.Context, service string, n store.PubSubNode) error {
	n.MaxItems = max(n.MaxItems, 1)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO pubsub_nodes (service, node, owner, max_items, config)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (service, node) DO UPDATE SET owner = excluded.owner,
				max_items = excluded.max_items, config = excluded.config`,
			service, n.Node, nullable(n.Owner), n.MaxItems, nonNil(n.Config))
		if err != nil {
			return missingUser(err)
		}
		return trimPubSub(tx, service, n.Node, n.MaxItems)
	})
	if err != nil {
		return fmt.Errorf("sqlite: put pubsub node %q of %q: %w", n.Node, service, err)
	}
	return nil
}

func trimPubSub(tx *sql.Tx, service, node string, keep int) error {
	_, err := tx.Exec(`DELETE FROM pubsub_items WHERE service = ? AND node = ? AND seq NOT IN
		(SELECT seq FROM pubsub_items WHERE service = ? AND node = ? ORDER BY seq DESC LIMIT ?)`,
		service, node, service, node, keep)
	return err
}

func scanPubSubNode(sc interface{ Scan(...any) error }) (store.PubSubNode, error) {
	var n store.PubSubNode
	var owner sql.NullString
	err := sc.Scan(&n.Node, &owner, &n.MaxItems, &n.Config)
	n.Owner = owner.String
	return n, err
}

// PubSubNode returns one node; store.ErrNotFound.
func (s *Store) PubSubNode(ctx context.Context, service, node string) (store.PubSubNode, error) {
	n, err := scanPubSubNode(s.r.QueryRowContext(ctx, `SELECT node, owner, max_items, config
		FROM pubsub_nodes WHERE service = ? AND node = ?`, service, node))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PubSubNode{}, fmt.Errorf("sqlite: pubsub node %q of %q: %w", node, service, err)
	}
	return n, nil
}

// PubSubNodes returns a service's nodes by name.
func (s *Store) PubSubNodes(ctx context.Context, service string) ([]store.PubSubNode, error) {
	out, err := queryRows(ctx, s.r, scanPubSubNode, `SELECT node, owner, max_items, config
		FROM pubsub_nodes WHERE service = ? ORDER BY node`, service)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pubsub nodes of %q: %w", service, err)
	}
	return out, nil
}

// queryRows scans every row of a query with scan.
func queryRows[T any](ctx context.Context, db *sql.DB, scan func(interface{ Scan(...any) error }) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeletePubSubNode removes a node and all it holds; store.ErrNotFound.
func (s *Store) DeletePubSubNode(ctx context.Context, service, node string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM pubsub_nodes WHERE service = ? AND node = ?`, service, node))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete pubsub node %q of %q: %w", node, service, err)
	}
	return nil
}

// PublishPubSubItem stores it as the node's newest item.
func (s *Store) PublishPubSubItem(ctx context.Context, service, node string, it store.PubSubItem) error {
	updated := time.Now().UnixNano()
	if !it.Updated.IsZero() {
		updated = nanos(it.Updated)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var keep int
		err := tx.QueryRow(`SELECT max_items FROM pubsub_nodes WHERE service = ? AND node = ?`, service, node).Scan(&keep)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM pubsub_items WHERE service = ? AND node = ? AND id = ?`, service, node, it.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO pubsub_items (service, node, id, publisher, payload, updated)
			VALUES (?, ?, ?, ?, ?, ?)`, service, node, it.ID, it.Publisher, nonNil(it.Payload), updated); err != nil {
			return err
		}
		return trimPubSub(tx, service, node, keep)
	})
	if err != nil {
		return fmt.Errorf("sqlite: publish to pubsub node %q of %q: %w", node, service, err)
	}
	return nil
}

// nodeExists is store.ErrNotFound unless the node exists.
func nodeExists(ctx context.Context, tx *sql.Tx, service, node string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM pubsub_nodes WHERE service = ? AND node = ?`, service, node).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// PubSubItems returns items oldest first; see store.PubSub.
func (s *Store) PubSubItems(ctx context.Context, service, node string, ids []string, limit int) ([]store.PubSubItem, error) {
	var out []store.PubSubItem
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, service, node); err != nil {
			return err
		}
		q := `SELECT seq, id, publisher, payload, updated FROM pubsub_items WHERE service = ? AND node = ?`
		args := []any{service, node}
		if len(ids) > 0 {
			list, _ := json.Marshal(ids)
			q += ` AND id IN (SELECT value FROM json_each(?))`
			args = append(args, string(list))
		}
		if limit <= 0 {
			limit = -1
		}
		q = `SELECT id, publisher, payload, updated FROM (` + q + ` ORDER BY seq DESC LIMIT ?) ORDER BY seq`
		rows, err := tx.QueryContext(ctx, q, append(args, limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it store.PubSubItem
			var updated int64
			if err := rows.Scan(&it.ID, &it.Publisher, &it.Payload, &updated); err != nil {
				return err
			}
			it.Updated = fromUnixNano(updated)
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: items of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
}

// readTx runs fn in a read-only transaction on a reader connection.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	return fn(tx)
}

// PubSubItemSizes returns item IDs and payload lengths, oldest first.
func (s *Store) PubSubItemSizes(ctx context.Context, service, node string) ([]store.PEPItemSize, error) {
	var out []store.PEPItemSize
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, service, node); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, length(payload) FROM pubsub_items
			WHERE service = ? AND node = ? ORDER BY seq`, service, node)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it store.PEPItemSize
			if err := rows.Scan(&it.ID, &it.Bytes); err != nil {
				return err
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: item sizes of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
}

// RetractPubSubItem removes one item; store.ErrNotFound.
func (s *Store) RetractPubSubItem(ctx context.Context, service, node, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM pubsub_items WHERE service = ? AND node = ? AND id = ?`, service, node, id))
	})
	if err != nil {
		return fmt.Errorf("sqlite: retract from pubsub node %q of %q: %w", node, service, err)
	}
	return nil
}

// PurgePubSubNode removes a node's items; store.ErrNotFound.
func (s *Store) PurgePubSubNode(ctx context.Context, service, node string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, service, node); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM pubsub_items WHERE service = ? AND node = ?`, service, node)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: purge pubsub node %q of %q: %w", node, service, err)
	}
	return nil
}

// SetPubSubAffiliation sets or (none) removes an affiliation.
func (s *Store) SetPubSubAffiliation(ctx context.Context, service, node string, a store.PubSubAffiliation) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, service, node); err != nil {
			return err
		}
		if a.Affiliation == store.AffiliationNone {
			_, err := tx.Exec(`DELETE FROM pubsub_affiliations WHERE service = ? AND node = ? AND jid = ?`, service, node, a.JID)
			return err
		}
		_, err := tx.Exec(`INSERT INTO pubsub_affiliations (service, node, jid, affiliation) VALUES (?, ?, ?, ?)
			ON CONFLICT (service, node, jid) DO UPDATE SET affiliation = excluded.affiliation`,
			service, node, a.JID, a.Affiliation)
		return nodeMissing(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: affiliation of %q with pubsub node %q of %q: %w", a.JID, node, service, err)
	}
	return nil
}

// PubSubAffiliations returns a node's affiliations, or a service's.
func (s *Store) PubSubAffiliations(ctx context.Context, service, node string) ([]store.PubSubAffiliation, error) {
	scan := func(sc interface{ Scan(...any) error }) (store.PubSubAffiliation, error) {
		var a store.PubSubAffiliation
		return a, sc.Scan(&a.Node, &a.JID, &a.Affiliation)
	}
	q := `SELECT node, jid, affiliation FROM pubsub_affiliations WHERE service = ?`
	args := []any{service}
	if node != "" {
		q += ` AND node = ?`
		args = append(args, node)
	}
	out, err := queryRows(ctx, s.r, scan, q+` ORDER BY node, jid`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: affiliations of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
}

// PutPubSubSubscription creates or replaces a subscription.
func (s *Store) PutPubSubSubscription(ctx context.Context, service, node string, sub store.PubSubSubscription) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, service, node); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO pubsub_subscriptions (service, node, jid, subid, state, options)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (service, node, jid, subid) DO UPDATE SET state = excluded.state, options = excluded.options`,
			service, node, sub.JID, sub.SubID, sub.State, nonNil(sub.Options))
		return nodeMissing(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: subscription of %q to pubsub node %q of %q: %w", sub.JID, node, service, err)
	}
	return nil
}

// DeletePubSubSubscription removes a subscription; store.ErrNotFound.
func (s *Store) DeletePubSubSubscription(ctx context.Context, service, node, jid, subid string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM pubsub_subscriptions
			WHERE service = ? AND node = ? AND jid = ? AND subid = ?`, service, node, jid, subid))
	})
	if err != nil {
		return fmt.Errorf("sqlite: unsubscribe %q from pubsub node %q of %q: %w", jid, node, service, err)
	}
	return nil
}

// PubSubSubscriptions returns a node's subscriptions, or a service's.
func (s *Store) PubSubSubscriptions(ctx context.Context, service, node string) ([]store.PubSubSubscription, error) {
	scan := func(sc interface{ Scan(...any) error }) (store.PubSubSubscription, error) {
		var v store.PubSubSubscription
		return v, sc.Scan(&v.Node, &v.JID, &v.SubID, &v.State, &v.Options)
	}
	q := `SELECT node, jid, subid, state, options FROM pubsub_subscriptions WHERE service = ?`
	args := []any{service}
	if node != "" {
		q += ` AND node = ?`
		args = append(args, node)
	}
	out, err := queryRows(ctx, s.r, scan, q+` ORDER BY node, jid, subid`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscriptions of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
}

// ForgetPubSubJID removes a bare JID's subscriptions (full JIDs too)
// and non-owner affiliations at every service.
func (s *Store) ForgetPubSubJID(ctx context.Context, bare string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM pubsub_subscriptions WHERE jid = ? OR substr(jid, 1, length(?) + 1) = ? || '/'`,
			bare, bare, bare); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM pubsub_affiliations WHERE jid = ? AND affiliation <> 'owner'`, bare)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: forget %q at pubsub services: %w", bare, err)
	}
	return nil
}

// PubSubOwnedBytes sums the payloads of the nodes owner owns at service.
func (s *Store) PubSubOwnedBytes(ctx context.Context, service, owner string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(length(i.payload)), 0) FROM pubsub_affiliations AS a
		JOIN pubsub_items AS i ON i.service = a.service AND i.node = a.node
		WHERE a.service = ? AND a.jid = ? AND a.affiliation = 'owner'`, service, owner).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: bytes owned by %q at %q: %w", owner, service, err)
	}
	return n, nil
}
