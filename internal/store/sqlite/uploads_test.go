package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestUploadsConformance(t *testing.T) {
	storetest.RunUploads(t, func(t *testing.T) storetest.UploadStore { return openTemp(t, Options{}) })
}
