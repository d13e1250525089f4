package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestPushConformance(t *testing.T) {
	storetest.RunPush(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
