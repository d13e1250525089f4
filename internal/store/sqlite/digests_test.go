package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestDigestAddressesConformance(t *testing.T) {
	storetest.DigestAddresses.Run(t, openStore)
}
