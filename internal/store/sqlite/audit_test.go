package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestAuditConformance(t *testing.T) {
	storetest.Audit.Run(t, openStore)
}
