package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestDigestAddressesConformance(t *testing.T) {
	needDB(t)
	storetest.RunDigestAddresses(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
