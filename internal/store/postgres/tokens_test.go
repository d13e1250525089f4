package postgres

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestTokensConformance(t *testing.T) {
	needDB(t)
	storetest.RunTokens(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}
