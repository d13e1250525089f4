package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestPushConformance(t *testing.T) {
	storetest.Push.Run(t, openStore)
}
