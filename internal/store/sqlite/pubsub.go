package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"parley/internal/store"
)

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

// sqlDB is this backend's statements for store.SQLMethods
// (store.SQLDB): here those of the node and item operations on either
// table set, of which store.NodeMethods makes store.PEP's and
// store.PubSub's methods.
type sqlDB Store

// where is the condition naming one node of a set.
func where(t store.NodeTables) string { return t.Key + ` = ? AND node = ?` }

func (d *sqlDB) PutNode(ctx context.Context, t store.NodeTables, key, node string, keep int, values []any) error {
	return (*Store)(d).write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(t.Upsert(func(int) string { return "?" }), append([]any{key}, values...)...); err != nil {
			return missingUser(err)
		}
		return trim(tx, t, key, node, keep)
	})
}

// trim keeps the newest keep items of a node.
func trim(tx *sql.Tx, t store.NodeTables, key, node string, keep int) error {
	_, err := tx.Exec(`DELETE FROM `+t.Items+` WHERE `+where(t)+` AND seq NOT IN
		(SELECT seq FROM `+t.Items+` WHERE `+where(t)+` ORDER BY seq DESC LIMIT ?)`,
		key, node, key, node, keep)
	return err
}

func (d *sqlDB) DeleteNode(ctx context.Context, t store.NodeTables, key, node string) error {
	return (*Store)(d).write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM `+t.Nodes+` WHERE `+where(t), key, node))
	})
}

func (d *sqlDB) Publish(ctx context.Context, t store.NodeTables, key, node string, it store.PubSubItem) error {
	columns, values, args := `id`, `?, ?, ?, ?, ?`, []any{key, node, it.ID}
	if t.Publisher != "" {
		columns, values, args = columns+`, `+t.Publisher, values+`, ?`, append(args, it.Publisher)
	}
	columns, args = columns+`, payload, updated`, append(args, nonNil(it.Payload), unixNano(it.Updated))
	return (*Store)(d).write(ctx, func(tx *sql.Tx) error {
		var keep int
		err := tx.QueryRow(`SELECT max_items FROM `+t.Nodes+` WHERE `+where(t), key, node).Scan(&keep)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM `+t.Items+` WHERE `+where(t)+` AND id = ?`, key, node, it.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO `+t.Items+` (`+t.Key+`, node, `+columns+`) VALUES (`+values+`)`, args...); err != nil {
			return err
		}
		return trim(tx, t, key, node, keep)
	})
}

// nodeExists is store.ErrNotFound unless the node exists.
func nodeExists(ctx context.Context, tx *sql.Tx, t store.NodeTables, key, node string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+t.Nodes+` WHERE `+where(t), key, node).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// readRows runs a query in tx, after checking that the node exists, and
// reads every row with scan.
func readRows[T any](ctx context.Context, d *sqlDB, t store.NodeTables, key, node string, scan func(func(...any) error) (T, error), q string, args ...any) ([]T, error) {
	var out []T
	err := (*Store)(d).readTx(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, t, key, node); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out, err = store.ScanRows(rows, scan)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *sqlDB) Items(ctx context.Context, t store.NodeTables, key, node string, ids []string, limit int) ([]store.PubSubItem, error) {
	publisher := `''`
	if t.Publisher != "" {
		publisher = t.Publisher
	}
	q := `SELECT seq, id, ` + publisher + ` AS publisher, payload, updated FROM ` + t.Items + ` WHERE ` + where(t)
	args := []any{key, node}
	if len(ids) > 0 {
		list, _ := json.Marshal(ids)
		q += ` AND id IN (SELECT value FROM json_each(?))`
		args = append(args, string(list))
	}
	if limit <= 0 {
		limit = -1 // no limit
	}
	q = `SELECT id, publisher, payload, updated FROM (` + q + ` ORDER BY seq DESC LIMIT ?) ORDER BY seq`
	return readRows(ctx, d, t, key, node, func(scan func(...any) error) (store.PubSubItem, error) {
		var it store.PubSubItem
		var updated int64
		err := scan(&it.ID, &it.Publisher, &it.Payload, &updated)
		it.Updated = fromUnixNano(updated)
		return it, err
	}, q, append(args, limit)...)
}

// ItemSizes: SQLite's length() of a BLOB reads the record header, not
// the payload.
func (d *sqlDB) ItemSizes(ctx context.Context, t store.NodeTables, key, node string) ([]store.PEPItemSize, error) {
	return readRows(ctx, d, t, key, node, func(scan func(...any) error) (store.PEPItemSize, error) {
		var it store.PEPItemSize
		return it, scan(&it.ID, &it.Bytes)
	}, `SELECT id, length(payload) FROM `+t.Items+` WHERE `+where(t)+` ORDER BY seq`, key, node)
}

func (d *sqlDB) Retract(ctx context.Context, t store.NodeTables, key, node, id string) error {
	return (*Store)(d).write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM `+t.Items+` WHERE `+where(t)+` AND id = ?`, key, node, id))
	})
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

// PurgePubSubNode removes a node's items; store.ErrNotFound.
func (s *Store) PurgePubSubNode(ctx context.Context, service, node string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, store.PubSubTables, service, node); err != nil {
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
		if err := nodeExists(ctx, tx, store.PubSubTables, service, node); err != nil {
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

// PutPubSubSubscription creates or replaces a subscription.
func (s *Store) PutPubSubSubscription(ctx context.Context, service, node string, sub store.PubSubSubscription) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := nodeExists(ctx, tx, store.PubSubTables, service, node); err != nil {
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
