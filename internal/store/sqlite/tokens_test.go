package sqlite

import (
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestTokensConformance(t *testing.T) {
	storetest.RunTokens(t, func(t *testing.T) store.Store { return openTemp(t, Options{}) })
}
