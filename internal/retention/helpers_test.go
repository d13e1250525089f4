package retention

import (
	"context"
	"path/filepath"
	"testing"

	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// newStore opens a store in a new directory, closed when the test ends,
// with the accounts users.
func newStore(tb testing.TB, users ...string) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "parley.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	for _, u := range users {
		if err := st.CreateUser(context.Background(), store.User{Username: u}); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}
