package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestArchiveConformance(t *testing.T) {
	storetest.RunArchive(t, func(t *testing.T) storetest.ArchiveStore { return openTemp(t, Options{}) })
}
