package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// pubsubSchema is the migration step for publish-subscribe nodes
// (XEP-0060), as in the SQLite store: a service's nodes and items, and
// the affiliations and subscriptions of any node (PEP nodes too, under
// the account's bare JID as the service). A node owned by an account goes
// with it; everything of a node goes with the node.
const pubsubSchema = `
CREATE TABLE pubsub_nodes (
	service   text COLLATE "C" NOT NULL,
	node      text COLLATE "C" NOT NULL,
	owner     text COLLATE "C" REFERENCES users (username) ON DELETE CASCADE,
	max_items integer NOT NULL,
	config    bytea NOT NULL,
	PRIMARY KEY (service, node)
);
CREATE INDEX pubsub_nodes_owner ON pubsub_nodes (owner);

CREATE TABLE pubsub_items (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	service   text COLLATE "C" NOT NULL,
	node      text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	publisher text NOT NULL,
	payload   bytea NOT NULL,
	updated   timestamptz NOT NULL,
	FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
);
CREATE UNIQUE INDEX pubsub_items_id ON pubsub_items (service, node, id);
CREATE INDEX pubsub_items_node ON pubsub_items (service, node, seq);

CREATE TABLE pubsub_affiliations (
	service     text COLLATE "C" NOT NULL,
	node        text COLLATE "C" NOT NULL,
	jid         text COLLATE "C" NOT NULL,
	affiliation text NOT NULL,
	PRIMARY KEY (service, node, jid),
	FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
);

CREATE TABLE pubsub_subscriptions (
	service text COLLATE "C" NOT NULL,
	node    text COLLATE "C" NOT NULL,
	jid     text COLLATE "C" NOT NULL,
	subid   text COLLATE "C" NOT NULL,
	state   text NOT NULL,
	options bytea NOT NULL,
	PRIMARY KEY (service, node, jid, subid),
	FOREIGN KEY (service, node) REFERENCES pubsub_nodes (service, node) ON DELETE CASCADE
);
`

// sqlDB is this backend's statements for store.SQLMethods
// (store.SQLDB): here those of the node and item operations on either
// table set, of which store.NodeMethods makes store.PEP's and
// store.PubSub's methods.
type sqlDB Store

// where is the condition naming one node of a set ($1, $2).
func where(t store.NodeTables) string { return t.Key + ` = $1 AND node = $2` }

// PutNode: the upsert locks the node row, and the trim is a second
// statement so that under READ COMMITTED it sees every publish committed
// before the lock was granted; in one statement its snapshot could miss
// one and leave a node holding more than its max_items.
func (d *sqlDB) PutNode(ctx context.Context, t store.NodeTables, key, node string, keep int, values []any) error {
	return (*Store)(d).inTx(ctx, func(tx pgx.Tx) error {
		upsert := t.Upsert(func(i int) string { return "$" + strconv.Itoa(i) })
		if _, err := tx.Exec(ctx, upsert, append([]any{key}, values...)...); err != nil {
			return missingUser(err)
		}
		return trim(ctx, tx, t, key, node, keep)
	})
}

// trim keeps the newest keep (at least 1) items of a node: it deletes
// those older than the keep-th newest, and nothing when there are fewer
// (the subquery is then NULL).
func trim(ctx context.Context, tx pgx.Tx, t store.NodeTables, key, node string, keep int) error {
	_, err := tx.Exec(ctx, `DELETE FROM `+t.Items+` WHERE `+where(t)+` AND seq <
		(SELECT seq FROM `+t.Items+` WHERE `+where(t)+` ORDER BY seq DESC OFFSET $3 LIMIT 1)`,
		key, node, keep-1)
	return err
}

func (d *sqlDB) DeleteNode(ctx context.Context, t store.NodeTables, key, node string) error {
	return mustAffect((*Store)(d).exec(ctx, `DELETE FROM `+t.Nodes+` WHERE `+where(t), key, node))
}

// lockNode locks a node's row for the transaction (FOR UPDATE), so that
// writes to one node and its reconfiguration take turns: two publishes
// of one id cannot both find it absent and collide on the unique index,
// seq order is commit order within the node, and each later statement
// sees what the previous holder of the lock committed. It returns the
// node's max_items; store.ErrNotFound.
func lockNode(ctx context.Context, tx pgx.Tx, t store.NodeTables, key, node string) (int, error) {
	var keep int
	err := tx.QueryRow(ctx, `SELECT max_items FROM `+t.Nodes+` WHERE `+where(t)+` FOR UPDATE`, key, node).Scan(&keep)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	return keep, err
}

func (d *sqlDB) Publish(ctx context.Context, t store.NodeTables, key, node string, it store.PubSubItem) error {
	columns, values, args := `id`, `$1, $2, $3, $4, $5`, []any{key, node, it.ID}
	if t.Publisher != "" {
		columns, values, args = columns+`, `+t.Publisher, values+`, $6`, append(args, it.Publisher)
	}
	columns, args = columns+`, payload, updated`, append(args, nonNil(it.Payload), stamp(it.Updated))
	return (*Store)(d).inTx(ctx, func(tx pgx.Tx) error {
		keep, err := lockNode(ctx, tx, t, key, node)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+t.Items+` WHERE `+where(t)+` AND id = $3`, key, node, it.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+t.Items+` (`+t.Key+`, node, `+columns+`) VALUES (`+values+`)`, args...); err != nil {
			return err
		}
		return trim(ctx, tx, t, key, node, keep)
	})
}

// Items is one statement, so the node's existence and its items come
// from one snapshot: the node row drives a LEFT JOIN, so a node without
// items still yields one row (with NULLs) and an unknown node none.
func (d *sqlDB) Items(ctx context.Context, t store.NodeTables, key, node string, ids []string, limit int) ([]store.PubSubItem, error) {
	var only []string // NULL: every item
	if len(ids) > 0 {
		only = ids
	}
	var newest *int // NULL: LIMIT ALL
	if limit > 0 {
		newest = &limit
	}
	publisher := `''`
	if t.Publisher != "" {
		publisher = t.Publisher
	}
	rows, err := d.pool.Query(ctx, `SELECT i.id, i.publisher, i.payload, i.updated FROM `+t.Nodes+` AS n
		LEFT JOIN LATERAL (SELECT seq, id, `+publisher+` AS publisher, payload, updated FROM `+t.Items+`
			WHERE `+t.Key+` = n.`+t.Key+` AND node = n.node AND ($3::text[] IS NULL OR id = ANY ($3::text[]))
			ORDER BY seq DESC LIMIT $4) AS i ON true
		WHERE n.`+t.Key+` = $1 AND n.node = $2
		ORDER BY i.seq`, key, node, only, newest)
	if err != nil {
		return nil, err
	}
	var id, by *string // NULL on the one row of a node without items
	var payload []byte
	var updated *time.Time
	return nodeRows(rows, []any{&id, &by, &payload, &updated}, func() (store.PubSubItem, bool) {
		if id == nil {
			return store.PubSubItem{}, false
		}
		// pgx scans each bytea into a new slice
		return store.PubSubItem{ID: *id, Publisher: *by, Payload: payload, Updated: updated.UTC()}, true
	})
}

// nodeRows reads the rows of a query driven by one node's row (LEFT
// JOIN): make returns a row's value and whether it is one (not the NULLs
// of a node without any); store.ErrNotFound when there was no row at all.
func nodeRows[T any](rows pgx.Rows, scans []any, make func() (T, bool)) ([]T, error) {
	var out []T
	found := false
	_, err := pgx.ForEachRow(rows, scans, func() error {
		found = true
		if v, ok := make(); ok {
			out = append(out, v)
		}
		return nil
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ItemSizes: octet_length of a TOASTed bytea reads its header, not the
// value. One statement (the node row drives a LEFT JOIN, as in Items),
// so existence and items come from one snapshot.
func (d *sqlDB) ItemSizes(ctx context.Context, t store.NodeTables, key, node string) ([]store.PEPItemSize, error) {
	rows, err := d.pool.Query(ctx, `SELECT i.id, octet_length(i.payload) FROM `+t.Nodes+` AS n
		LEFT JOIN `+t.Items+` AS i ON i.`+t.Key+` = n.`+t.Key+` AND i.node = n.node
		WHERE n.`+t.Key+` = $1 AND n.node = $2
		ORDER BY i.seq`, key, node)
	if err != nil {
		return nil, err
	}
	var id *string // NULL on the one row of a node without items
	var n *int
	return nodeRows(rows, []any{&id, &n}, func() (store.PEPItemSize, bool) {
		if id == nil {
			return store.PEPItemSize{}, false
		}
		return store.PEPItemSize{ID: *id, Bytes: *n}, true
	})
}

func (d *sqlDB) Retract(ctx context.Context, t store.NodeTables, key, node, id string) error {
	return mustAffect((*Store)(d).exec(ctx, `DELETE FROM `+t.Items+` WHERE `+where(t)+` AND id = $3`, key, node, id))
}

// PurgePubSubNode removes a node's items; store.ErrNotFound.
func (s *Store) PurgePubSubNode(ctx context.Context, service, node string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockNode(ctx, tx, store.PubSubTables, service, node); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM pubsub_items WHERE service = $1 AND node = $2`, service, node)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: purge pubsub node %q of %q: %w", node, service, err)
	}
	return nil
}

// SetPubSubAffiliation sets or (none) removes an affiliation.
func (s *Store) SetPubSubAffiliation(ctx context.Context, service, node string, a store.PubSubAffiliation) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockNode(ctx, tx, store.PubSubTables, service, node); err != nil {
			return err
		}
		if a.Affiliation == store.AffiliationNone {
			_, err := tx.Exec(ctx, `DELETE FROM pubsub_affiliations WHERE service = $1 AND node = $2 AND jid = $3`,
				service, node, a.JID)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO pubsub_affiliations (service, node, jid, affiliation) VALUES ($1, $2, $3, $4)
			ON CONFLICT (service, node, jid) DO UPDATE SET affiliation = excluded.affiliation`,
			service, node, a.JID, a.Affiliation)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: affiliation of %q with pubsub node %q of %q: %w", a.JID, node, service, err)
	}
	return nil
}

// PutPubSubSubscription creates or replaces a subscription.
func (s *Store) PutPubSubSubscription(ctx context.Context, service, node string, sub store.PubSubSubscription) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockNode(ctx, tx, store.PubSubTables, service, node); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO pubsub_subscriptions (service, node, jid, subid, state, options)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (service, node, jid, subid) DO UPDATE SET state = excluded.state, options = excluded.options`,
			service, node, sub.JID, sub.SubID, sub.State, nonNil(sub.Options))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: subscription of %q to pubsub node %q of %q: %w", sub.JID, node, service, err)
	}
	return nil
}

// ForgetPubSubJID removes a bare JID's subscriptions (full JIDs too)
// and non-owner affiliations at every service.
func (s *Store) ForgetPubSubJID(ctx context.Context, bare string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM pubsub_subscriptions WHERE jid = $1 OR left(jid, length($1) + 1) = $1 || '/'`,
			bare); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM pubsub_affiliations WHERE jid = $1 AND affiliation <> 'owner'`, bare)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: forget %q at pubsub services: %w", bare, err)
	}
	return nil
}
