package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

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
