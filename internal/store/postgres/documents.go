package postgres

import (
	"context"
	"errors"
	"fmt"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// VCard returns store.ErrNotFound when the user has none.
func (s *Store) VCard(ctx context.Context, username string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT vcard FROM vcards WHERE username = $1`, username).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: vcard of %q: %w", username, err)
	}
	return v, nil
}

// SetVCard stores or replaces the user's vCard; store.ErrNotFound if the
// user does not exist.
func (s *Store) SetVCard(ctx context.Context, username string, vcard []byte) error {
	_, err := s.exec(ctx, `INSERT INTO vcards (username, vcard) VALUES ($1, $2)
		ON CONFLICT (username) DO UPDATE SET vcard = excluded.vcard`, username, nonNil(vcard))
	if err != nil {
		return fmt.Errorf("postgres: set vcard of %q: %w", username, missingUser(err))
	}
	return nil
}

// PrivateXML returns store.ErrNotFound when nothing is stored under key.
func (s *Store) PrivateXML(ctx context.Context, username, key string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM private_xml WHERE username = $1 AND key = $2`,
		username, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: private xml %q of %q: %w", key, username, err)
	}
	return v, nil
}

// SetPrivateXML stores or replaces data under (username, key);
// store.ErrNotFound if the user does not exist.
func (s *Store) SetPrivateXML(ctx context.Context, username, key string, data []byte) error {
	_, err := s.exec(ctx, `INSERT INTO private_xml (username, key, data) VALUES ($1, $2, $3)
		ON CONFLICT (username, key) DO UPDATE SET data = excluded.data`, username, key, nonNil(data))
	if err != nil {
		return fmt.Errorf("postgres: set private xml %q of %q: %w", key, username, missingUser(err))
	}
	return nil
}

// PrivateXMLSizes returns the length of each of a user's stored elements.
func (s *Store) PrivateXMLSizes(ctx context.Context, username string) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, octet_length(data) FROM private_xml WHERE username = $1`, username)
	if err != nil {
		return nil, fmt.Errorf("postgres: private xml sizes of %q: %w", username, err)
	}
	out := make(map[string]int)
	var k string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error {
		out[k] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: private xml sizes of %q: %w", username, err)
	}
	return out, nil
}
