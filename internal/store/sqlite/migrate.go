package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema steps in order; step i brings the schema from
// user_version i to i+1. Append new steps (MAM, MUC, ...) at the end and
// never edit a step that has shipped: databases in the field have already
// run it.
//
// Everything a user owns references users(username) with ON DELETE CASCADE,
// so DeleteUser is one statement and cannot forget a table added later.
// roster_versions deliberately has no such reference: a user deleted and
// created again must not see versions restart at 1, or a client still
// caching the old roster at version N would be told "unchanged" for the new
// roster's version N (RFC 6121 §2.6.1: a version identifies one roster
// state).
var migrations = []string{
	// 1: accounts, rosters, offline messages, vCards, private XML, block lists.
	`
CREATE TABLE users (
	username      TEXT PRIMARY KEY,
	sha1_salt     BLOB NOT NULL,
	sha1_iter     INTEGER NOT NULL,
	sha1_stored   BLOB NOT NULL,
	sha1_server   BLOB NOT NULL,
	sha256_salt   BLOB NOT NULL,
	sha256_iter   INTEGER NOT NULL,
	sha256_stored BLOB NOT NULL,
	sha256_server BLOB NOT NULL,
	created       INTEGER NOT NULL -- Unix nanoseconds
) WITHOUT ROWID;

CREATE TABLE roster_items (
	username       TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	jid            TEXT NOT NULL,
	name           TEXT NOT NULL,
	groups         TEXT NOT NULL, -- JSON array of strings, sorted and unique
	subscription   TEXT NOT NULL,
	ask_out        INTEGER NOT NULL,
	pending_in     INTEGER NOT NULL,
	pre_approved   INTEGER NOT NULL,
	pending_stanza BLOB NOT NULL,
	hidden         INTEGER NOT NULL,
	PRIMARY KEY (username, jid)
) WITHOUT ROWID;

CREATE TABLE roster_versions (
	username TEXT PRIMARY KEY,
	version  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE offline (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	stamp    INTEGER NOT NULL, -- Unix nanoseconds
	stanza   BLOB NOT NULL
);
CREATE INDEX offline_username_id ON offline (username, id);

CREATE TABLE vcards (
	username TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
	vcard    BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE private_xml (
	username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	key      TEXT NOT NULL,
	data     BLOB NOT NULL,
	PRIMARY KEY (username, key)
) WITHOUT ROWID;

CREATE TABLE blocklist (
	username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	jid      TEXT NOT NULL,
	PRIMARY KEY (username, jid)
) WITHOUT ROWID;
`,
	archiveSchema, // 2: message archives and preferences (XEP-0313, XEP-0441), archive.go
	roomsSchema,   // 3: persistent multi-user chat rooms and affiliations (XEP-0045), rooms.go
}

// migrate brings db up to len(steps), one transaction per step so a failing
// step leaves the database at the last good version, with user_version
// recording how far it got. It runs before the writer goroutine starts, on
// the writer's connection, so nothing else writes meanwhile.
func migrate(ctx context.Context, db *sql.DB, steps []string) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if have > len(steps) {
		return fmt.Errorf("sqlite: schema version %d, this build knows %d: %w", have, len(steps), ErrSchemaTooNew)
	}
	for v := have; v < len(steps); v++ {
		if err := migrateStep(ctx, db, v+1, steps[v]); err != nil {
			return err
		}
	}
	return nil
}

func migrateStep(ctx context.Context, db *sql.DB, version int, step string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate to %d: %w", version, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, step); err != nil {
		return fmt.Errorf("sqlite: migrate to %d: %w", version, err)
	}
	// PRAGMA takes no bound parameters; version is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		return fmt.Errorf("sqlite: migrate to %d: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate to %d: %w", version, err)
	}
	return nil
}
