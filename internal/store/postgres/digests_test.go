package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestDigestAddressesConformance(t *testing.T) {
	needDB(t)
	storetest.DigestAddresses.Run(t, openStore)
}
