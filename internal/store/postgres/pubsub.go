package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

var _ store.PubSub = (*Store)(nil)

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

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// PutPubSubNode creates or reconfigures a node, trimming its items (the
// upsert locks the row, then the trim sees every committed publish, as in
// PutPEPNode); store.ErrNotFound for an unknown owner.
func (s *Store) PutPubSubNode(ctx context.Context, service string, n store.PubSubNode) error {
	n.MaxItems = max(n.MaxItems, 1)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO pubsub_nodes (service, node, owner, max_items, config)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (service, node) DO UPDATE SET owner = excluded.owner,
				max_items = excluded.max_items, config = excluded.config`,
			service, n.Node, nullable(n.Owner), n.MaxItems, nonNil(n.Config))
		if err != nil {
			return missingUser(err)
		}
		return trimPubSub(ctx, tx, service, n.Node, n.MaxItems)
	})
	if err != nil {
		return fmt.Errorf("postgres: put pubsub node %q of %q: %w", n.Node, service, err)
	}
	return nil
}

func trimPubSub(ctx context.Context, tx pgx.Tx, service, node string, keep int) error {
	_, err := tx.Exec(ctx, `DELETE FROM pubsub_items WHERE service = $1 AND node = $2 AND seq <
		(SELECT seq FROM pubsub_items WHERE service = $1 AND node = $2 ORDER BY seq DESC OFFSET $3 LIMIT 1)`,
		service, node, keep-1)
	return err
}

func scanPubSubNode(row pgx.Row) (store.PubSubNode, error) {
	var n store.PubSubNode
	var owner *string
	err := row.Scan(&n.Node, &owner, &n.MaxItems, &n.Config)
	if owner != nil {
		n.Owner = *owner
	}
	return n, err
}

// PubSubNode returns one node; store.ErrNotFound.
func (s *Store) PubSubNode(ctx context.Context, service, node string) (store.PubSubNode, error) {
	n, err := scanPubSubNode(s.pool.QueryRow(ctx, `SELECT node, owner, max_items, config
		FROM pubsub_nodes WHERE service = $1 AND node = $2`, service, node))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PubSubNode{}, fmt.Errorf("postgres: pubsub node %q of %q: %w", node, service, err)
	}
	return n, nil
}

// collect runs a query and scans every row, nil for none.
func collect[T any](ctx context.Context, s *Store, scan func(pgx.Row) (T, error), q string, args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// PubSubNodes returns a service's nodes by name.
func (s *Store) PubSubNodes(ctx context.Context, service string) ([]store.PubSubNode, error) {
	out, err := collect(ctx, s, scanPubSubNode, `SELECT node, owner, max_items, config
		FROM pubsub_nodes WHERE service = $1 ORDER BY node`, service)
	if err != nil {
		return nil, fmt.Errorf("postgres: pubsub nodes of %q: %w", service, err)
	}
	return out, nil
}

// DeletePubSubNode removes a node and (by cascade) all it holds.
func (s *Store) DeletePubSubNode(ctx context.Context, service, node string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM pubsub_nodes WHERE service = $1 AND node = $2`, service, node))
	if err != nil {
		return fmt.Errorf("postgres: delete pubsub node %q of %q: %w", node, service, err)
	}
	return nil
}

// lockNode locks a node's row for the transaction (FOR UPDATE, so writes
// to one node take turns, as in PublishPEPItem) and returns its
// max_items; store.ErrNotFound.
func lockNode(ctx context.Context, tx pgx.Tx, service, node string) (int, error) {
	var keep int
	err := tx.QueryRow(ctx, `SELECT max_items FROM pubsub_nodes WHERE service = $1 AND node = $2 FOR UPDATE`,
		service, node).Scan(&keep)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	return keep, err
}

// PublishPubSubItem stores it as the node's newest item and trims.
func (s *Store) PublishPubSubItem(ctx context.Context, service, node string, it store.PubSubItem) error {
	updated := stamp(it.Updated)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		keep, err := lockNode(ctx, tx, service, node)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pubsub_items WHERE service = $1 AND node = $2 AND id = $3`,
			service, node, it.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pubsub_items (service, node, id, publisher, payload, updated)
			VALUES ($1, $2, $3, $4, $5, $6)`, service, node, it.ID, it.Publisher, nonNil(it.Payload), updated); err != nil {
			return err
		}
		return trimPubSub(ctx, tx, service, node, keep)
	})
	if err != nil {
		return fmt.Errorf("postgres: publish to pubsub node %q of %q: %w", node, service, err)
	}
	return nil
}

// PubSubItems returns items oldest first; one statement, the node row
// driving a LEFT JOIN, as in PEPItems.
func (s *Store) PubSubItems(ctx context.Context, service, node string, ids []string, limit int) ([]store.PubSubItem, error) {
	var only []string
	if len(ids) > 0 {
		only = ids
	}
	var newest *int
	if limit > 0 {
		newest = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT i.id, i.publisher, i.payload, i.updated FROM pubsub_nodes AS n
		LEFT JOIN LATERAL (SELECT seq, id, publisher, payload, updated FROM pubsub_items
			WHERE service = n.service AND node = n.node AND ($3::text[] IS NULL OR id = ANY ($3::text[]))
			ORDER BY seq DESC LIMIT $4) AS i ON true
		WHERE n.service = $1 AND n.node = $2
		ORDER BY i.seq`, service, node, only, newest)
	if err != nil {
		return nil, fmt.Errorf("postgres: items of pubsub node %q of %q: %w", node, service, err)
	}
	var out []store.PubSubItem
	found := false
	var id, publisher *string
	var payload []byte
	var updated *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &publisher, &payload, &updated}, func() error {
		found = true
		if id != nil {
			out = append(out, store.PubSubItem{ID: *id, Publisher: *publisher, Payload: payload, Updated: updated.UTC()})
		}
		return nil
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: items of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
}

// PubSubItemSizes returns item IDs and payload lengths, oldest first.
func (s *Store) PubSubItemSizes(ctx context.Context, service, node string) ([]store.PEPItemSize, error) {
	rows, err := s.pool.Query(ctx, `SELECT i.id, octet_length(i.payload) FROM pubsub_nodes AS n
		LEFT JOIN pubsub_items AS i ON i.service = n.service AND i.node = n.node
		WHERE n.service = $1 AND n.node = $2
		ORDER BY i.seq`, service, node)
	if err != nil {
		return nil, fmt.Errorf("postgres: item sizes of pubsub node %q of %q: %w", node, service, err)
	}
	var out []store.PEPItemSize
	found := false
	var id *string
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
		return nil, fmt.Errorf("postgres: item sizes of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
}

// RetractPubSubItem removes one item; store.ErrNotFound.
func (s *Store) RetractPubSubItem(ctx context.Context, service, node, id string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM pubsub_items WHERE service = $1 AND node = $2 AND id = $3`,
		service, node, id))
	if err != nil {
		return fmt.Errorf("postgres: retract %q from pubsub node %q of %q: %w", id, node, service, err)
	}
	return nil
}

// PurgePubSubNode removes a node's items; store.ErrNotFound.
func (s *Store) PurgePubSubNode(ctx context.Context, service, node string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockNode(ctx, tx, service, node); err != nil {
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
		if _, err := lockNode(ctx, tx, service, node); err != nil {
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

// PubSubAffiliations returns a node's affiliations, or a service's.
func (s *Store) PubSubAffiliations(ctx context.Context, service, node string) ([]store.PubSubAffiliation, error) {
	scan := func(row pgx.Row) (store.PubSubAffiliation, error) {
		var a store.PubSubAffiliation
		return a, row.Scan(&a.Node, &a.JID, &a.Affiliation)
	}
	out, err := collect(ctx, s, scan, `SELECT node, jid, affiliation FROM pubsub_affiliations
		WHERE service = $1 AND ($2 = '' OR node = $2) ORDER BY node, jid`, service, node)
	if err != nil {
		return nil, fmt.Errorf("postgres: affiliations of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
}

// PutPubSubSubscription creates or replaces a subscription.
func (s *Store) PutPubSubSubscription(ctx context.Context, service, node string, sub store.PubSubSubscription) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockNode(ctx, tx, service, node); err != nil {
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

// DeletePubSubSubscription removes a subscription; store.ErrNotFound.
func (s *Store) DeletePubSubSubscription(ctx context.Context, service, node, jid, subid string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM pubsub_subscriptions
		WHERE service = $1 AND node = $2 AND jid = $3 AND subid = $4`, service, node, jid, subid))
	if err != nil {
		return fmt.Errorf("postgres: unsubscribe %q from pubsub node %q of %q: %w", jid, node, service, err)
	}
	return nil
}

// PubSubSubscriptions returns a node's subscriptions, or a service's.
func (s *Store) PubSubSubscriptions(ctx context.Context, service, node string) ([]store.PubSubSubscription, error) {
	scan := func(row pgx.Row) (store.PubSubSubscription, error) {
		var v store.PubSubSubscription
		return v, row.Scan(&v.Node, &v.JID, &v.SubID, &v.State, &v.Options)
	}
	out, err := collect(ctx, s, scan, `SELECT node, jid, subid, state, options FROM pubsub_subscriptions
		WHERE service = $1 AND ($2 = '' OR node = $2) ORDER BY node, jid, subid`, service, node)
	if err != nil {
		return nil, fmt.Errorf("postgres: subscriptions of pubsub node %q of %q: %w", node, service, err)
	}
	return out, nil
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

// PubSubOwnedBytes sums the payloads of the nodes owner owns at service.
func (s *Store) PubSubOwnedBytes(ctx context.Context, service, owner string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(octet_length(i.payload)), 0) FROM pubsub_affiliations AS a
		JOIN pubsub_items AS i ON i.service = a.service AND i.node = a.node
		WHERE a.service = $1 AND a.jid = $2 AND a.affiliation = 'owner'`, service, owner).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: bytes owned by %q at %q: %w", owner, service, err)
	}
	return n, nil
}
