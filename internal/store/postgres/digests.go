package postgres

// digestsSchema is the migration step for the addresses of accounts that
// get missed-message digests by email (internal/im/digest).
const digestsSchema = `
CREATE TABLE digest_addresses (
	username text COLLATE "C" PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
	address  text NOT NULL
);
`
