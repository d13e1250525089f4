package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

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
