package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestDigestAddressesConformance(t *testing.T) {
	storetest.RunDigestAddresses(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
