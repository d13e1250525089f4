package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestHoldsConformance(t *testing.T) {
	storetest.RunHolds(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
