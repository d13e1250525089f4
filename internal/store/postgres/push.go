package postgres

// pushSchema is the migration step for push notification registrations
// (XEP-0357), one per account, app server and node.
const pushSchema = `
CREATE TABLE push_registrations (
	username text COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	service  text COLLATE "C" NOT NULL,
	node     text COLLATE "C" NOT NULL,
	options  bytea NOT NULL, -- the publish-options form; empty: none
	created  timestamptz NOT NULL,
	PRIMARY KEY (username, service, node)
);
`
