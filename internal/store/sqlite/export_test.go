package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestTransfersConformance(t *testing.T) {
	storetest.RunTransfers(t, func(t *testing.T) storetest.TransferStore { return openTemp(t, Options{}) })
}
