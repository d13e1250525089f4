package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestIncidents(t *testing.T) {
	storetest.Incidents.Run(t, openStore)
}
