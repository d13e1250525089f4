package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestUploadsConformance(t *testing.T) {
	storetest.Uploads.Run(t, openStore)
}
