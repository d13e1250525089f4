package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestArchiveConformance(t *testing.T) {
	storetest.RunArchive(t, func(t *testing.T) storetest.ArchiveStore { return openTemp(t, Options{}) })
}

func TestArchiveSearchConformance(t *testing.T) {
	storetest.RunArchiveSearch(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
