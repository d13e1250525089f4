package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

var _ store.WebhookDeadLetters = (*Store)(nil)

// deadLettersSchema is the migration step for the outgoing webhooks'
// dead letters, in the order they failed.
const deadLettersSchema = `
CREATE TABLE webhook_dead_letters (
	seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	letter bytea NOT NULL
);
`

// AddWebhookDeadLetter stores letter and drops the oldest beyond keep.
func (s *Store) AddWebhookDeadLetter(ctx context.Context, letter []byte, keep int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_dead_letters (letter) VALUES ($1)`, nonNil(letter)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM webhook_dead_letters WHERE seq NOT IN
			(SELECT seq FROM webhook_dead_letters ORDER BY seq DESC LIMIT $1)`, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: add webhook dead letter: %w", err)
	}
	return nil
}

// WebhookDeadLetters returns the letters kept, oldest first.
func (s *Store) WebhookDeadLetters(ctx context.Context) ([][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT letter FROM webhook_dead_letters ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("postgres: webhook dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("postgres: webhook dead letters: %w", err)
	}
	return out, nil
}
