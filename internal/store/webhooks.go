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
