package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestWebhookDeadLettersConformance(t *testing.T) {
	needDB(t)
	storetest.RunWebhookDeadLetters(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
