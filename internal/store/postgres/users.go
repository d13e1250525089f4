package postgres

import (
	"context"
	"errors"
	"fmt"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateUser adds an account; store.ErrExists if the username is taken. A
// zero Created is set to the current time.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.exec(ctx, `INSERT INTO users (username,
		sha1_salt, sha1_iter, sha1_stored, sha1_server,
		sha256_salt, sha256_iter, sha256_stored, sha256_server, created, disabled, bot)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		u.Username,
		nonNil(u.SHA1.Salt), u.SHA1.Iterations, nonNil(u.SHA1.StoredKey), nonNil(u.SHA1.ServerKey),
		nonNil(u.SHA256.Salt), u.SHA256.Iterations, nonNil(u.SHA256.StoredKey), nonNil(u.SHA256.ServerKey),
		stamp(u.Created), u.Disabled, u.Bot)
	if isCode(err, uniqueViolation) {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: create user %q: %w", u.Username, err)
	}
	return nil
}

// GetUser returns store.ErrNotFound for an unknown username.
func (s *Store) GetUser(ctx context.Context, username string) (store.User, error) {
	u := store.User{Username: username}
	err := s.pool.QueryRow(ctx, `SELECT
		sha1_salt, sha1_iter, sha1_stored, sha1_server,
		sha256_salt, sha256_iter, sha256_stored, sha256_server, created, disabled, bot
		FROM users WHERE username = $1`, username).Scan(
		&u.SHA1.Salt, &u.SHA1.Iterations, &u.SHA1.StoredKey, &u.SHA1.ServerKey,
		&u.SHA256.Salt, &u.SHA256.Iterations, &u.SHA256.StoredKey, &u.SHA256.ServerKey,
		&u.Created, &u.Disabled, &u.Bot)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: get user %q: %w", username, err)
	}
	u.Created = u.Created.UTC()
	return u, nil
}

// SetUserKeys replaces the SCRAM keys; store.ErrNotFound.
func (s *Store) SetUserKeys(ctx context.Context, username string, sha1, sha256 store.ScramKeys) error {
	err := mustAffect(s.exec(ctx, `UPDATE users SET
		sha1_salt = $1, sha1_iter = $2, sha1_stored = $3, sha1_server = $4,
		sha256_salt = $5, sha256_iter = $6, sha256_stored = $7, sha256_server = $8
		WHERE username = $9`,
		nonNil(sha1.Salt), sha1.Iterations, nonNil(sha1.StoredKey), nonNil(sha1.ServerKey),
		nonNil(sha256.Salt), sha256.Iterations, nonNil(sha256.StoredKey), nonNil(sha256.ServerKey),
		username))
	if err != nil {
		return fmt.Errorf("postgres: set keys of %q: %w", username, err)
	}
	return nil
}

// SetUserDisabled disables or re-enables an account; store.ErrNotFound.
func (s *Store) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	if err := mustAffect(s.exec(ctx, `UPDATE users SET disabled = $1 WHERE username = $2`, disabled, username)); err != nil {
		return fmt.Errorf("postgres: set disabled of %q: %w", username, err)
	}
	return nil
}

// DeleteUser removes the account; the schema's ON DELETE CASCADE removes
// everything it owns in the same statement. store.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM users WHERE username = $1`, username))
	if err != nil {
		return fmt.Errorf("postgres: delete user %q: %w", username, err)
	}
	return nil
}

// ListUsers returns all usernames in ascending byte order.
func (s *Store) ListUsers(ctx context.Context) ([]string, error) {
	names, err := s.queryStrings(ctx, `SELECT username FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return names, nil
}

// exec runs one statement, which PostgreSQL commits on its own, unless
// the store is closed.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if s.closed() {
		return pgconn.CommandTag{}, store.ErrClosed
	}
	return s.pool.Exec(ctx, sql, args...)
}

// mustAffect turns an UPDATE or DELETE that matched no row into
// store.ErrNotFound.
func mustAffect(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// queryStrings returns the single text column of every row, nil for none.
func (s *Store) queryStrings(ctx context.Context, sql string, args ...any) ([]string, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if len(out) == 0 {
		out = nil
	}
	return out, err
}
