// Package postgres is parley's store for larger sites: a store.Store kept in
// PostgreSQL through a pgx connection pool (github.com/jackc/pgx/v5), so
// that several parley nodes can share one database.
//
// It behaves exactly as the embedded SQLite store does; both pass the one
// conformance suite in storetest. The differences are in how:
//
//   - Offline messages, which are acknowledged to the sender only once
//     stored (XEP-0198), go to one writer goroutine that inserts everything
//     queued with one statement, that is one transaction and one WAL flush
//     (group commit). Each caller is answered after COMMIT.
//   - Archive appends (XEP-0313) have a writer of their own that does the
//     same: one multi-row INSERT per batch, each caller answered after
//     COMMIT, under a transaction-scoped advisory lock so that nodes
//     sharing the database commit in archive (seq) order. Full-text
//     search is a tsvector of words folded in Go (lower case, no
//     diacritics, as SQLite's unicode61) plus an owner lexeme, under GIN.
//   - Other writes are single statements (or one short transaction) on the
//     pool: PostgreSQL takes concurrent writers, so they need no queue.
//   - Reads that must agree with each other (a roster and its version) are
//     one statement, hence one snapshot.
//   - Usernames, JIDs and keys are declared COLLATE "C", so lists come back
//     in byte order whatever the database's locale.
//
// The schema is versioned in a schema_migrations table and migrated forward
// at Open, each step in its own transaction under a transaction-scoped
// advisory lock, so nodes starting together do not race; see migrate.go.
// Tables are created unqualified, in the first schema of the connection's
// search_path.
package postgres
