package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestAuditConformance(t *testing.T) {
	needDB(t)
	storetest.Audit.Run(t, openStore)
}
