package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"parley/internal/store"
)

var _ store.WebhookDeadLetters = (*Store)(nil)

// deadLettersSchema is the migration step for the outgoing webhooks'
// dead letters, in the order they failed.
const deadLettersSchema = `
CREATE TABLE webhook_dead_letters (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	letter BLOB NOT NULL
);
`

// AddWebhookDeadLetter stores letter and drops the oldest beyond keep.
func (s *Store) AddWebhookDeadLetter(ctx context.Context, letter []byte, keep int) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO webhook_dead_letters (letter) VALUES (?)`, nonNil(letter)); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM webhook_dead_letters WHERE seq NOT IN
			(SELECT seq FROM webhook_dead_letters ORDER BY seq DESC LIMIT ?)`, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: add webhook dead letter: %w", err)
	}
	return nil
}

// WebhookDeadLetters returns the letters kept, oldest first.
func (s *Store) WebhookDeadLetters(ctx context.Context) ([][]byte, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT letter FROM webhook_dead_letters ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: webhook dead letters: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanRows(rows, func(scan func(...any) error) (l []byte, err error) {
		err = scan(&l)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: webhook dead letters: %w", err)
	}
	return out, nil
}
