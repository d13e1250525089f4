package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestStrangerFiltersConformance(t *testing.T) {
	needDB(t)
	storetest.RunStrangerFilters(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
