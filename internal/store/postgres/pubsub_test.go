package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestPubSubConformance(t *testing.T) {
	needDB(t)
	storetest.PubSub.Run(t, openStore)
}
