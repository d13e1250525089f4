package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestStrangerFiltersConformance(t *testing.T) {
	needDB(t)
	storetest.StrangerFilters.Run(t, openStore)
}
