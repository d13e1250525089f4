package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestAbuseReportsConformance(t *testing.T) {
	needDB(t)
	storetest.RunAbuseReports(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
