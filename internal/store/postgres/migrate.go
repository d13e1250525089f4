package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema steps in order; step i brings the schema from
// version i to i+1. Append new steps (MAM, MUC, ...) at the end and never
// edit a step that has shipped: databases in the field have already run
// it. A step may hold several statements.
//
// As in the SQLite store, everything a user owns references
// users(username) with ON DELETE CASCADE, so DeleteUser is one statement
// and cannot forget a table added later; roster_versions deliberately has
// no such reference, so a user deleted and created again never sees
// versions restart (RFC 6121 §2.6.1: a version identifies one roster
// state).
//
// Every username, JID and key column is COLLATE "C": ListUsers and
// Blocklist promise byte order, and a database created with a linguistic
// locale would otherwise sort "ålf" before "alice". It also lets the
// primary-key indexes serve those ORDER BYs.
var migrations = []string{
	// 1: accounts, rosters, offline messages, vCards, private XML, block lists.
	`
CREATE TABLE users (
	username      text COLLATE "C" PRIMARY KEY,
	sha1_salt     bytea NOT NULL,
	sha1_iter     integer NOT NULL,
	sha1_stored   bytea NOT NULL,
	sha1_server   bytea NOT NULL,
	sha256_salt   bytea NOT NULL,
	sha256_iter   integer NOT NULL,
	sha256_stored bytea NOT NULL,
	sha256_server bytea NOT NULL,
	created       timestamptz NOT NULL
);

CREATE TABLE roster_items (
	username       text COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	jid            text COLLATE "C" NOT NULL,
	name           text NOT NULL,
	groups         text[] NOT NULL, -- sorted and unique
	subscription   text NOT NULL,
	ask_out        boolean NOT NULL,
	pending_in     boolean NOT NULL,
	pre_approved   boolean NOT NULL,
	pending_stanza bytea NOT NULL,
	hidden         boolean NOT NULL,
	PRIMARY KEY (username, jid)
);

CREATE TABLE roster_versions (
	username text COLLATE "C" PRIMARY KEY,
	version  bigint NOT NULL
);

CREATE TABLE offline (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username text COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	stamp    timestamptz NOT NULL,
	stanza   bytea NOT NULL
);
CREATE INDEX offline_username_id ON offline (username, id);

CREATE TABLE vcards (
	username text COLLATE "C" PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
	vcard    bytea NOT NULL
);

CREATE TABLE private_xml (
	username text COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	key      text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	PRIMARY KEY (username, key)
);

CREATE TABLE blocklist (
	username text COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	jid      text COLLATE "C" NOT NULL,
	PRIMARY KEY (username, jid)
);
`,
	roomsSchema,         // 2: persistent multi-user chat rooms and affiliations (XEP-0045), rooms.go
	archiveSchema,       // 3: message archives of users and rooms, preferences (XEP-0313, XEP-0441), archive.go
	pepSchema,           // 4: personal eventing nodes and items (XEP-0163), pep.go
	archiveSearchSchema, // 5: indexes that count full-text matches without the heap, archive.go
	archiveCountSchema,  // 6: each owner's number of archived messages, for estimated search counts, archive.go
	pubsubSchema,        // 7: publish-subscribe nodes, items, affiliations, subscriptions (XEP-0060), pubsub.go
	uploadsSchema,       // 8: HTTP file uploads (XEP-0363), uploads.go
	roomVCards,          // 9: room vCards, their avatars (XEP-0486), rooms.go
	// 10: disabled accounts (XEP-0133 §4.3), users.go
	`ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;`,
	auditSchema,     // 11: the audit log, its checkpoints and sink cursors (internal/audit), audit.go
	pushSchema,      // 12: push notification registrations (XEP-0357), push.go
	tokensSchema,    // 13: admin API bearer tokens, hashes only (internal/adminapi), tokens.go
	reportsSchema,   // 14: abuse reports (XEP-0377, internal/im/blocking), reports.go
	strangersSchema, // 15: accounts refusing strangers (internal/im/spam), strangers.go
	incidentsSchema, // 16: the supervision queue and the API's DLP policies (internal/supervision, internal/dlp), incidents.go
	digestsSchema,   // 17: addresses for missed-message digests by email (internal/im/digest), digests.go
	holdsSchema,     // 18: legal holds and the originals they keep (store.LegalHolds), holds.go
	fastSchema,      // 19: XEP-0484 FAST token verifiers per account and device (internal/c2s), fast.go
	// 20: bot accounts (disco client/bot), users.go
	`ALTER TABLE users ADD COLUMN bot boolean NOT NULL DEFAULT false;`,
	archiveOwnerCheckSchema, // 21: the archive's owner checked once per statement instead of a foreign key, archive.go
	deadLettersSchema,       // 22: outgoing webhooks' dead letters (internal/webhook), webhooks.go
}

// migrateLock is the advisory lock key that serialises migrations of one
// database ("parley" in ASCII). Advisory locks are per database, so sites
// sharing a server do not wait for each other.
const migrateLock int64 = 0x7061726c6579

// migrate brings the database up to len(steps), one transaction per step
// so a failing step leaves it at the last good version, with
// schema_migrations recording how far it got. Each transaction first takes
// migrateLock (released at its end) and then reads the version, so nodes
// starting together run every step exactly once: the second waits, then
// finds the step done.
func migrate(ctx context.Context, pool *pgxpool.Pool, steps []string) error {
	for {
		done, err := migrateStep(ctx, pool, steps)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep runs the next step not yet applied, if any, and reports
// whether the schema was already current.
func migrateStep(ctx context.Context, pool *pgxpool.Pool, steps []string) (current bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return false, fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	// Under the lock, so two nodes cannot both create it.
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, fmt.Errorf("postgres: migrate: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return false, fmt.Errorf("postgres: read schema version: %w", err)
	}
	if have > len(steps) {
		return false, fmt.Errorf("postgres: schema version %d, this build knows %d: %w", have, len(steps), store.ErrSchemaTooNew)
	}
	if have == len(steps) {
		return true, tx.Commit(ctx)
	}
	version := have + 1
	// The simple protocol lets a step hold several statements.
	if _, err := tx.Exec(ctx, steps[have], pgx.QueryExecModeSimpleProtocol); err != nil {
		return false, fmt.Errorf("postgres: migrate to %d: %w", version, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version); err != nil {
		return false, fmt.Errorf("postgres: migrate to %d: %w", version, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: migrate to %d: %w", version, err)
	}
	return false, nil
}
