package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestAuditConformance(t *testing.T) {
	needDB(t)
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore { return openTest(t, Options{}) })
}
