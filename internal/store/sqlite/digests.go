package sqlite

// digestsSchema is the migration step for the addresses of accounts that
// get missed-message digests by email (internal/im/digest).
const digestsSchema = `
CREATE TABLE digest_addresses (
	username TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
	address  TEXT NOT NULL
) WITHOUT ROWID;
`
