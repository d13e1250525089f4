package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestWebhookDeadLettersConformance(t *testing.T) {
	storetest.WebhookDeadLetters.Run(t, openStore)
}
