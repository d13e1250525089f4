package storetest

import (
	"context"
	"testing"

	"parley/internal/store"
)

// DigestAddresses is the suite of the digest address conformance cases.
var DigestAddresses = Suite{digestCases, []string{"alice", "bob"}}

var digestCases = []scenario{
	{"set_get_clear_delete", func(t *testing.T, ctx context.Context, s store.Store) {
		want := func(user, addr string) {
			t.Helper()
			if got, err := s.DigestAddress(ctx, user); err != nil || got != addr {
				t.Errorf("DigestAddress(%s) = %q, %v; want %q", user, got, err, addr)
			}
		}
		want("alice", "")
		wantErr(t, "SetDigestAddress", s.SetDigestAddress(ctx, "alice", "alice@mail.example"), nil)
		want("alice", "alice@mail.example")
		wantErr(t, "SetDigestAddress again", s.SetDigestAddress(ctx, "alice", "a@mail.example"), nil)
		want("alice", "a@mail.example")
		want("bob", "")
		wantErr(t, "SetDigestAddress off", s.SetDigestAddress(ctx, "alice", ""), nil)
		want("alice", "")
		wantErr(t, "SetDigestAddress off again", s.SetDigestAddress(ctx, "alice", ""), nil)
		wantErr(t, "SetDigestAddress for nobody", s.SetDigestAddress(ctx, "carol", "c@mail.example"), store.ErrNotFound)
		want("carol", "")
		wantErr(t, "SetDigestAddress bob", s.SetDigestAddress(ctx, "bob", "b@mail.example"), nil)
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "bob"), nil)
		create(t, ctx, s, "bob")
		want("bob", "") // the address went with the account
	}},
}
