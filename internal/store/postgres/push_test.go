package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestPushConformance(t *testing.T) {
	needDB(t)
	storetest.RunPush(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
