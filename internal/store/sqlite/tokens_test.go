package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestTokensConformance(t *testing.T) {
	storetest.Tokens.Run(t, openStore)
}
