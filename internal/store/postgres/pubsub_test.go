package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestPubSubConformance(t *testing.T) {
	needDB(t)
	storetest.RunPubSub(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
