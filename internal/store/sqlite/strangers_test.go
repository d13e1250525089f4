package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestStrangerFiltersConformance(t *testing.T) {
	storetest.StrangerFilters.Run(t, openStore)
}
