package store

import (
	"context"
	"time"
)

// WebhookDeadLetters keeps the outgoing webhooks' dead letters, the events
// whose deliveries all failed (internal/webhook), so that they survive a
// restart and every node of a cluster lists the same ones. A letter is
// the webhook package's JSON; the store only keeps the newest.
type WebhookDeadLetters interface {
	// AddWebhookDeadLetter stores letter and drops the oldest beyond keep.
	AddWebhookDeadLetter(ctx context.Context, letter []byte, keep int) error
	// WebhookDeadLetters returns the letters kept, oldest first.
	WebhookDeadLetters(ctx context.Context) ([][]byte, error)
}

// Written beside the interface (measure.go's rule: one method each).

func (m *measured) AddWebhookDeadLetter(ctx context.Context, letter []byte, keep int) error {
	defer m.observe("AddWebhookDeadLetter", time.Now())
	return m.s.AddWebhookDeadLetter(ctx, letter, keep)
}

func (m *measured) WebhookDeadLetters(ctx context.Context) ([][]byte, error) {
	defer m.observe("WebhookDeadLetters", time.Now())
	return m.s.WebhookDeadLetters(ctx)
}

// AddWebhookDeadLetter stores letter and drops the oldest beyond keep.
func (m StmtMethods) AddWebhookDeadLetter(ctx context.Context, letter []byte, keep int) error {
	err := m.DB.Tx(ctx, func(tx Execer) error {
		if _, err := tx.Exec(`INSERT INTO webhook_dead_letters (letter) VALUES (`+m.DB.Param(1)+`)`, nonNilBytes(letter)); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM webhook_dead_letters WHERE seq NOT IN
			(SELECT seq FROM webhook_dead_letters ORDER BY seq DESC LIMIT `+m.DB.Param(1)+`)`, keep)
		return err
	})
	return m.fail(err, "add webhook dead letter")
}

// WebhookDeadLetters returns the letters kept, oldest first.
func (m StmtMethods) WebhookDeadLetters(ctx context.Context) ([][]byte, error) {
	out, err := QueryRows(ctx, m.DB, scanValue[[]byte], `SELECT letter FROM webhook_dead_letters ORDER BY seq`)
	return out, m.fail(err, "webhook dead letters")
}
