package sqlite

import (
	"context"
	"fmt"

	"parley/internal/store"
)

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
