package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestFastConformance(t *testing.T) {
	needDB(t)
	storetest.RunFast(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
