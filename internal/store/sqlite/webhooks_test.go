package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestWebhookDeadLettersConformance(t *testing.T) {
	storetest.RunWebhookDeadLetters(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
