package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestRoomsConformance(t *testing.T) {
	storetest.Rooms.Run(t, openStore)
}
