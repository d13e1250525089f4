package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"parley/internal/store"
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
	roomArchives,  // 4: archives owned by rooms as well as by users (XEP-0313 §5)
	pepSchema,     // 5: personal eventing nodes and items (XEP-0163), pep.go
	// 6: archive_owner duplicated the (owner, id) index's prefix and cost
	// a page write per batch and owner on every archive commit.
	`DROP INDEX IF EXISTS archive_owner;`,
	// 7: but that was the only index in seq order per owner: a page
	// (the last page at login above all) then sorted the owner's whole
	// archive, 270 ms p50 at 50,000 messages. Paging needs it back,
	// named for what it serves.
	`CREATE INDEX IF NOT EXISTS archive_owner_seq ON archive (owner, seq);`,
	pubsubSchema,  // 8: publish-subscribe nodes, items, affiliations, subscriptions (XEP-0060), pubsub.go
	uploadsSchema, // 9: HTTP file uploads (XEP-0363), uploads.go
	roomVCards,    // 10: room vCards, their avatars (XEP-0486), rooms.go
	// 11: disabled accounts (XEP-0133 §4.3), users.go
	`ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;`,
	auditSchema,     // 12: the audit log, its checkpoints and sink cursors (internal/audit), audit.go
	pushSchema,      // 13: push notification registrations (XEP-0357), push.go
	tokensSchema,    // 14: admin API bearer tokens, hashes only (internal/adminapi), tokens.go
	reportsSchema,   // 15: abuse reports (XEP-0377, internal/im/blocking), reports.go
	strangersSchema, // 16: accounts refusing strangers (internal/im/spam), strangers.go
	incidentsSchema, // 17: the supervision queue and the API's DLP policies (internal/supervision, internal/dlp), incidents.go
	digestsSchema,   // 18: addresses for missed-message digests by email (internal/im/digest), digests.go
	holdsSchema,     // 19: legal holds and the originals they keep (store.LegalHolds), holds.go
	fastSchema,      // 20: XEP-0484 FAST token verifiers per account and device (internal/c2s), fast.go
	// 21: bot accounts (disco client/bot), users.go
	`ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;`,
	deadLettersSchema, // 22: outgoing webhooks' dead letters (internal/webhook), webhooks.go
}

// roomArchives lets a persistent room own an archive under its bare JID
// (which contains '@', so it never equals a username). archive.owner now
// references archive_owners, which triggers keep equal to the usernames
// plus the room JIDs: appending for an owner that is neither still fails
// the foreign key (store.ErrNotFound), and deleting the account or the
// room still cascades to its archive. SQLite cannot change a foreign key
// in place, so archive is rebuilt (seq, and with it the FTS5 rowids, kept).
const roomArchives = `
CREATE TABLE archive_owners (owner TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO archive_owners (owner) SELECT username FROM users;
INSERT OR IGNORE INTO archive_owners (owner) SELECT jid FROM muc_rooms;
CREATE TRIGGER archive_owner_user_insert AFTER INSERT ON users BEGIN
	INSERT OR IGNORE INTO archive_owners (owner) VALUES (new.username);
END;
CREATE TRIGGER archive_owner_user_delete AFTER DELETE ON users BEGIN
	DELETE FROM archive_owners WHERE owner = old.username;
END;
CREATE TRIGGER archive_owner_room_insert AFTER INSERT ON muc_rooms BEGIN
	INSERT OR IGNORE INTO archive_owners (owner) VALUES (new.jid);
END;
CREATE TRIGGER archive_owner_room_delete AFTER DELETE ON muc_rooms BEGIN
	DELETE FROM archive_owners WHERE owner = old.jid;
END;

CREATE TABLE archive_new (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	owner    TEXT NOT NULL REFERENCES archive_owners(owner) ON DELETE CASCADE,
	id       TEXT NOT NULL,
	with_jid TEXT NOT NULL,
	stamp    INTEGER NOT NULL, -- Unix nanoseconds
	stanza   BLOB NOT NULL,
	body     TEXT NOT NULL
);
INSERT INTO archive_new (seq, owner, id, with_jid, stamp, stanza, body)
	SELECT seq, owner, id, with_jid, stamp, stanza, body FROM archive ORDER BY seq;
DROP TRIGGER archive_fts_insert;
DROP TRIGGER archive_fts_delete;
DROP TABLE archive;
ALTER TABLE archive_new RENAME TO archive;
CREATE UNIQUE INDEX archive_owner_id ON archive (owner, id);
CREATE INDEX archive_owner ON archive (owner);
CREATE INDEX archive_owner_with ON archive (owner, with_jid);
CREATE INDEX archive_owner_stamp ON archive (owner, stamp);
CREATE TRIGGER archive_fts_insert AFTER INSERT ON archive WHEN new.body != '' BEGIN
	INSERT INTO archive_fts (rowid, tag, body) VALUES (new.seq, 'u' || hex(new.owner), new.body);
END;
CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive WHEN old.body != '' BEGIN
	DELETE FROM archive_fts WHERE rowid = old.seq;
END;
`

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
		return fmt.Errorf("sqlite: schema version %d, this build knows %d: %w", have, len(steps), store.ErrSchemaTooNew)
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
