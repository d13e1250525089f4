package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

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

// CreateToken adds a token.
func (s *Store) CreateToken(ctx context.Context, t store.APIToken) error {
	var owner, expires any
	if t.Username != "" {
		owner = t.Username
	}
	if !t.Expires.IsZero() {
		expires = t.Expires.Truncate(time.Microsecond)
	}
	_, err := s.exec(ctx, `INSERT INTO api_tokens (id, name, role, hash, username, created, expires)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Name, t.Role, nonNil(t.Hash), owner, stamp(t.Created), expires)
	if isCode(err, uniqueViolation) {
		err = store.ErrExists
	}
	if err := missingUser(err); err != nil {
		return fmt.Errorf("postgres: create token %q: %w", t.ID, err)
	}
	return nil
}

const tokenColumns = `id, name, role, hash, COALESCE(username, ''), created, expires`

func scanToken(row pgx.Row) (store.APIToken, error) {
	var t store.APIToken
	var expires *time.Time
	if err := row.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &t.Username, &t.Created, &expires); err != nil {
		return t, err
	}
	t.Created = t.Created.UTC()
	if expires != nil {
		t.Expires = expires.UTC()
	}
	return t, nil
}

// TokenByHash returns the token with this hash; store.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, nonNil(hash)))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, store.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("postgres: token by hash: %w", err)
	}
	return t, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken deletes a token; store.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if err := mustAffect(s.exec(ctx, `DELETE FROM api_tokens WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("postgres: revoke token %q: %w", id, err)
	}
	return nil
}

// RevokeUserTokens deletes an account's tokens.
func (s *Store) RevokeUserTokens(ctx context.Context, username string) (int, error) {
	tag, err := s.exec(ctx, `DELETE FROM api_tokens WHERE username = $1`, username)
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke tokens of %q: %w", username, err)
	}
	return int(tag.RowsAffected()), nil
}
