package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestIncidents(t *testing.T) {
	needDB(t)
	storetest.RunIncidents(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
