package sqlite

// pushSchema is the migration step for push notification registrations
// (XEP-0357), one per account, app server and node.
const pushSchema = `
CREATE TABLE push_registrations (
	username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	service  TEXT NOT NULL,
	node     TEXT NOT NULL,
	options  BLOB NOT NULL, -- the publish-options form; empty: none
	created  INTEGER NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (username, service, node)
) WITHOUT ROWID;
`
