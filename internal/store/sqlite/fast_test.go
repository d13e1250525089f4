package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestFastConformance(t *testing.T) {
	storetest.Fast.Run(t, openStore)
}
