package postgres

// tokensSchema is the migration step for the admin API's bearer tokens:
// their hashes only, never the tokens.
const tokensSchema = `
CREATE TABLE api_tokens (
	id       text COLLATE "C" PRIMARY KEY,
	name     text NOT NULL,
	role     text COLLATE "C" NOT NULL,
	hash     bytea NOT NULL UNIQUE,
	username text COLLATE "C" REFERENCES users (username) ON DELETE CASCADE, -- NULL: an operator's token
	created  timestamptz NOT NULL,
	expires  timestamptz -- NULL: never
);
CREATE INDEX api_tokens_username ON api_tokens (username);
`
