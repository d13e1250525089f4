package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestRoomsConformance(t *testing.T) {
	storetest.RunRooms(t, func(t *testing.T) storetest.RoomStore { return openTemp(t, Options{}) })
}
