package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"parley/internal/store"
)

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

// CreateToken adds a token.
func (s *Store) CreateToken(ctx context.Context, t store.APIToken) error {
	var owner any
	if t.Username != "" {
		owner = t.Username
	}
	var expires int64
	if !t.Expires.IsZero() {
		expires = nanos(t.Expires)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO api_tokens (id, name, role, hash, username, created, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.Role, nonNil(t.Hash), owner, unixNano(t.Created), expires)
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) || isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
			return store.ErrExists
		}
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create token %q: %w", t.ID, err)
	}
	return nil
}

const tokenColumns = `id, name, role, hash, COALESCE(username, ''), created, expires`

func scanToken(scan func(...any) error) (store.APIToken, error) {
	var t store.APIToken
	var created, expires int64
	if err := scan(&t.ID, &t.Name, &t.Role, &t.Hash, &t.Username, &created, &expires); err != nil {
		return t, err
	}
	t.Created = fromUnixNano(created)
	if expires != 0 {
		t.Expires = fromUnixNano(expires)
	}
	return t, nil
}

// TokenByHash returns the token with this hash; store.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, nonNil(hash)).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("sqlite: token by hash: %w", err)
	}
	return t, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]store.APIToken, error) {
	out, err := queryAll(ctx, s, scanToken, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken deletes a token; store.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM api_tokens WHERE id = ?`, id))
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke token %q: %w", id, err)
	}
	return nil
}

// RevokeUserTokens deletes an account's tokens.
func (s *Store) RevokeUserTokens(ctx context.Context, username string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM api_tokens WHERE username = ?`, username)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: revoke tokens of %q: %w", username, err)
	}
	return int(n), nil
}
