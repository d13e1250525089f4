package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestIncidents(t *testing.T) {
	storetest.RunIncidents(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
