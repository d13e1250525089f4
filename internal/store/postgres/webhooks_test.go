package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestWebhookDeadLettersConformance(t *testing.T) {
	needDB(t)
	storetest.WebhookDeadLetters.Run(t, openStore)
}
