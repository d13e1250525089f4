package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestPEPConformance(t *testing.T) {
	storetest.RunPEP(t, func(t *testing.T) storetest.PEPStore { return openTemp(t, Options{}) })
}

func TestPubSubConformance(t *testing.T) {
	storetest.RunPubSub(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
