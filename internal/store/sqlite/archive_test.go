package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestArchiveConformance(t *testing.T) {
	storetest.Archive.Run(t, openStore)
}

func TestArchiveSearchConformance(t *testing.T) {
	storetest.ArchiveSearch.Run(t, openStore)
}
