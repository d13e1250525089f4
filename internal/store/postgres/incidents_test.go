package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestIncidents(t *testing.T) {
	needDB(t)
	storetest.Incidents.Run(t, openStore)
}
