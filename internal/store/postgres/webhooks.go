package postgres

import (
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
