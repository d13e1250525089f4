package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestTokensConformance(t *testing.T) {
	needDB(t)
	storetest.Tokens.Run(t, openStore)
}
