package sqlite

import (
	"context"
	"fmt"
)

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
