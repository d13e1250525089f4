package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestUploadsConformance(t *testing.T) {
	needDB(t)
	storetest.RunUploads(t, func(t *testing.T) storetest.UploadStore { return openTest(t, Options{}) })
}
