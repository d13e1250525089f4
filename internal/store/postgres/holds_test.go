package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestHoldsConformance(t *testing.T) {
	needDB(t)
	storetest.RunHolds(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
