package sqlite

// tokensSchema is the migration step for the admin API's bearer tokens:
// their hashes only, never the tokens.
const tokensSchema = `
CREATE TABLE api_tokens (
	id       TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	role     TEXT NOT NULL,
	hash     BLOB NOT NULL UNIQUE,
	username TEXT REFERENCES users(username) ON DELETE CASCADE, -- NULL: an operator's token
	created  INTEGER NOT NULL, -- Unix nanoseconds
	expires  INTEGER NOT NULL  -- Unix nanoseconds; 0: never
) WITHOUT ROWID;
CREATE INDEX api_tokens_username ON api_tokens (username);
`
