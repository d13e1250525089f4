package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"parley/internal/store"
)

// VCard returns store.ErrNotFound when the user has none.
func (s *Store) VCard(ctx context.Context, username string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT vcard FROM vcards WHERE username = ?`, username).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: vcard of %q: %w", username, err)
	}
	return v, nil
}

// SetVCard stores or replaces the user's vCard; store.ErrNotFound if the
// user does not exist.
func (s *Store) SetVCard(ctx context.Context, username string, vcard []byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO vcards (username, vcard) VALUES (?, ?)
			ON CONFLICT (username) DO UPDATE SET vcard = excluded.vcard`, username, nonNil(vcard))
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set vcard of %q: %w", username, err)
	}
	return nil
}

// PrivateXML returns store.ErrNotFound when nothing is stored under key.
func (s *Store) PrivateXML(ctx context.Context, username, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM private_xml WHERE username = ? AND key = ?`,
		username, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: private xml %q of %q: %w", key, username, err)
	}
	return v, nil
}

// SetPrivateXML stores or replaces data under (username, key);
// store.ErrNotFound if the user does not exist.
func (s *Store) SetPrivateXML(ctx context.Context, username, key string, data []byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO private_xml (username, key, data) VALUES (?, ?, ?)
			ON CONFLICT (username, key) DO UPDATE SET data = excluded.data`, username, key, nonNil(data))
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set private xml %q of %q: %w", key, username, err)
	}
	return nil
}

// PrivateXMLSizes returns the length of each of a user's stored elements.
func (s *Store) PrivateXMLSizes(ctx context.Context, username string) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, length(data) FROM private_xml WHERE username = ?`, username)
	if err != nil {
		return nil, fmt.Errorf("sqlite: private xml sizes of %q: %w", username, err)
	}
	defer rows.Close()
	out := make(map[string]int)
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("sqlite: private xml sizes of %q: %w", username, err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: private xml sizes of %q: %w", username, err)
	}
	return out, nil
}
