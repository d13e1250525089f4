package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

// CreateUser adds an account; store.ErrExists if the username is taken. A
// zero Created is set to the current time.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO users (username,
			sha1_salt, sha1_iter, sha1_stored, sha1_server,
			sha256_salt, sha256_iter, sha256_stored, sha256_server, created, disabled, bot)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			u.Username,
			nonNil(u.SHA1.Salt), u.SHA1.Iterations, nonNil(u.SHA1.StoredKey), nonNil(u.SHA1.ServerKey),
			nonNil(u.SHA256.Salt), u.SHA256.Iterations, nonNil(u.SHA256.StoredKey), nonNil(u.SHA256.ServerKey),
			unixNano(u.Created), u.Disabled, u.Bot)
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return store.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.Username, err)
	}
	return nil
}

// GetUser returns store.ErrNotFound for an unknown username.
func (s *Store) GetUser(ctx context.Context, username string) (store.User, error) {
	u := store.User{Username: username}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT
		sha1_salt, sha1_iter, sha1_stored, sha1_server,
		sha256_salt, sha256_iter, sha256_stored, sha256_server, created, disabled, bot
		FROM users WHERE username = ?`, username).Scan(
		&u.SHA1.Salt, &u.SHA1.Iterations, &u.SHA1.StoredKey, &u.SHA1.ServerKey,
		&u.SHA256.Salt, &u.SHA256.Iterations, &u.SHA256.StoredKey, &u.SHA256.ServerKey,
		&created, &u.Disabled, &u.Bot)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: get user %q: %w", username, err)
	}
	u.Created = fromUnixNano(created)
	return u, nil
}

// SetUserKeys replaces the SCRAM keys; store.ErrNotFound.
func (s *Store) SetUserKeys(ctx context.Context, username string, sha1, sha256 store.ScramKeys) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE users SET
			sha1_salt = ?, sha1_iter = ?, sha1_stored = ?, sha1_server = ?,
			sha256_salt = ?, sha256_iter = ?, sha256_stored = ?, sha256_server = ?
			WHERE username = ?`,
			nonNil(sha1.Salt), sha1.Iterations, nonNil(sha1.StoredKey), nonNil(sha1.ServerKey),
			nonNil(sha256.Salt), sha256.Iterations, nonNil(sha256.StoredKey), nonNil(sha256.ServerKey),
			username)
		return mustAffect(res, err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set keys of %q: %w", username, err)
	}
	return nil
}

// SetUserDisabled disables or re-enables an account; store.ErrNotFound.
func (s *Store) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`UPDATE users SET disabled = ? WHERE username = ?`, disabled, username))
	})
	if err != nil {
		return fmt.Errorf("sqlite: set disabled of %q: %w", username, err)
	}
	return nil
}

// DeleteUser removes the account; the schema's ON DELETE CASCADE removes
// everything it owns in the same statement. store.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM users WHERE username = ?`, username))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete user %q: %w", username, err)
	}
	return nil
}

// ListUsers returns all usernames in ascending byte order.
func (s *Store) ListUsers(ctx context.Context) ([]string, error) {
	names, err := queryStrings(ctx, s.r, `SELECT username FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return names, nil
}

// mustAffect turns an UPDATE or DELETE that matched no row into
// store.ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// queryStrings returns the single text column of every row.
func queryStrings(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
