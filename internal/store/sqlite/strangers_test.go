package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestStrangerFiltersConformance(t *testing.T) {
	storetest.RunStrangerFilters(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
