package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestHoldsConformance(t *testing.T) {
	needDB(t)
	storetest.Holds.Run(t, openStore)
}
