package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestHoldsConformance(t *testing.T) {
	storetest.Holds.Run(t, openStore)
}
