package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestPEPConformance(t *testing.T) {
	storetest.RunPEP(t, func(t *testing.T) storetest.PEPStore { return openTemp(t, Options{}) })
}
