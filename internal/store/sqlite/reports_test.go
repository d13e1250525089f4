package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestAbuseReportsConformance(t *testing.T) {
	storetest.AbuseReports.Run(t, openStore)
}
