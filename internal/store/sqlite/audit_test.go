package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestAuditConformance(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore { return openTemp(t, Options{}) })
}
