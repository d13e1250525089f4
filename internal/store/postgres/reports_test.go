package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestAbuseReportsConformance(t *testing.T) {
	needDB(t)
	storetest.AbuseReports.Run(t, openStore)
}
