package sqlite

import (
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
