// Package sqlite is parley's embedded store: a store.Store kept in one SQLite
// file (modernc.org/sqlite, pure Go) and the default backend of a single-node
// server.
//
// SQLite allows one writer at a time; two connections that both write meet
// "database is locked". So every write goes to exactly one goroutine that
// owns the only read-write connection, and that goroutine commits whatever
// is queued as one transaction (group commit): fifty concurrent
// StoreOffline calls cost one fsync, not fifty. Reads run in parallel on a
// separate read-only pool, which WAL mode lets proceed while the writer
// commits.
//
// The schema is versioned with PRAGMA user_version and migrated forward at
// Open; see migrations in migrate.go.
package sqlite
