package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestPEPConformance(t *testing.T) {
	storetest.PEP.Run(t, openStore)
}

func TestPubSubConformance(t *testing.T) {
	storetest.PubSub.Run(t, openStore)
}
