package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestUploadsConformance(t *testing.T) {
	needDB(t)
	storetest.Uploads.Run(t, openStore)
}
