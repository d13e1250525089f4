package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestAbuseReportsConformance(t *testing.T) {
	storetest.RunAbuseReports(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
