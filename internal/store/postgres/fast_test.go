package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestFastConformance(t *testing.T) {
	needDB(t)
	storetest.Fast.Run(t, openStore)
}
