package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestPushConformance(t *testing.T) {
	needDB(t)
	storetest.Push.Run(t, openStore)
}
