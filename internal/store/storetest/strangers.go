package storetest

import (
	"context"
	"testing"

	"parley/internal/store"
)

// StrangerFilters is the suite of the stranger filter conformance cases.
var StrangerFilters = Suite{strangerCases, []string{"alice", "bob"}}

var strangerCases = []scenario{
	{"set_get_unknown_delete", func(t *testing.T, ctx context.Context, s store.Store) {
		want := func(user string, on bool) {
			t.Helper()
			if got, err := s.StrangerFilter(ctx, user); err != nil || got != on {
				t.Errorf("StrangerFilter(%s) = %v, %v; want %v", user, got, err, on)
			}
		}
		want("alice", false)
		wantErr(t, "SetStrangerFilter on", s.SetStrangerFilter(ctx, "alice", true), nil)
		want("alice", true)
		want("bob", false)
		wantErr(t, "SetStrangerFilter off", s.SetStrangerFilter(ctx, "alice", false), nil)
		want("alice", false)
		wantErr(t, "SetStrangerFilter for nobody", s.SetStrangerFilter(ctx, "carol", true), store.ErrNotFound)
		want("carol", false)
		wantErr(t, "SetStrangerFilter bob", s.SetStrangerFilter(ctx, "bob", true), nil)
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "bob"), nil)
		create(t, ctx, s, "bob")
		want("bob", false) // the choice went with the account
	}},
}
