package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestFastConformance(t *testing.T) {
	storetest.RunFast(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
