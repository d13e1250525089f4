package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestTransfersConformance(t *testing.T) {
	storetest.Transfers.Run(t, openStore)
}
