package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"parley/internal/store"
)

// Tokens is the suite of the admin API token conformance cases.
var Tokens = Suite{tokenCases, []string{"alice", "bob"}}

func testToken(id, role, username string, created time.Time) store.APIToken {
	h := sha256.Sum256([]byte("secret-" + id))
	return store.APIToken{ID: id, Name: "name of " + id, Role: role, Hash: h[:], Username: username, Created: created}
}

func sameToken(a, b store.APIToken) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Role == b.Role && bytes.Equal(a.Hash, b.Hash) &&
		a.Username == b.Username && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires)
}

var tokenCases = []scenario{
	{"create_find_list", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		a := testToken("a1", "admin", "", t0)
		a.Expires = t0.Add(30 * 24 * time.Hour)
		b := testToken("b1", "helpdesk", "bob", t0.Add(time.Second))
		wantErr(t, "CreateToken a", s.CreateToken(ctx, a), nil)
		wantErr(t, "CreateToken b", s.CreateToken(ctx, b), nil)
		got, err := s.TokenByHash(ctx, a.Hash)
		wantErr(t, "TokenByHash", err, nil)
		if !sameToken(got, a) {
			t.Errorf("TokenByHash = %+v, want %+v", got, a)
		}
		got, err = s.TokenByHash(ctx, b.Hash)
		if err != nil || !sameToken(got, b) || !got.Expires.IsZero() {
			t.Errorf("TokenByHash b = %+v, %v; want %+v (never expires)", got, err, b)
		}
		other := sha256.Sum256([]byte("unknown"))
		_, err = s.TokenByHash(ctx, other[:])
		wantErr(t, "TokenByHash unknown", err, store.ErrNotFound)
		list, err := s.ListTokens(ctx)
		wantErr(t, "ListTokens", err, nil)
		if len(list) != 2 || !sameToken(list[0], a) || !sameToken(list[1], b) {
			t.Errorf("ListTokens = %+v, want a then b", list)
		}
	}},
	{"duplicates_and_unknown_account", func(t *testing.T, ctx context.Context, s store.Store) {
		a := testToken("a1", "admin", "", time.Time{})
		wantErr(t, "CreateToken", s.CreateToken(ctx, a), nil)
		sameID := testToken("a1", "admin", "", time.Time{})
		sameID.Hash = bytes.Repeat([]byte{1}, 32)
		wantErr(t, "CreateToken same id", s.CreateToken(ctx, sameID), store.ErrExists)
		sameHash := testToken("a2", "admin", "", time.Time{})
		sameHash.Hash = a.Hash
		wantErr(t, "CreateToken same hash", s.CreateToken(ctx, sameHash), store.ErrExists)
		wantErr(t, "CreateToken for nobody", s.CreateToken(ctx, testToken("c1", "admin", "carol", time.Time{})), store.ErrNotFound)
		list, err := s.ListTokens(ctx)
		if err != nil || len(list) != 1 || list[0].Created.IsZero() {
			t.Errorf("ListTokens = %+v, %v; want a1 alone with a creation time", list, err)
		}
	}},
	{"revoke", func(t *testing.T, ctx context.Context, s store.Store) {
		for _, tk := range []store.APIToken{testToken("a1", "admin", "", time.Time{}),
			testToken("b1", "helpdesk", "bob", time.Time{}), testToken("b2", "auditor", "bob", time.Time{}),
			testToken("l1", "admin", "alice", time.Time{})} {
			wantErr(t, "CreateToken "+tk.ID, s.CreateToken(ctx, tk), nil)
		}
		wantErr(t, "RevokeToken", s.RevokeToken(ctx, "a1"), nil)
		wantErr(t, "RevokeToken again", s.RevokeToken(ctx, "a1"), store.ErrNotFound)
		if n, err := s.RevokeUserTokens(ctx, "bob"); err != nil || n != 2 {
			t.Fatalf("RevokeUserTokens(bob) = %d, %v; want 2", n, err)
		}
		if n, err := s.RevokeUserTokens(ctx, "bob"); err != nil || n != 0 {
			t.Fatalf("RevokeUserTokens(bob) again = %d, %v; want 0", n, err)
		}
		_, err := s.TokenByHash(ctx, testToken("b1", "", "", time.Time{}).Hash)
		wantErr(t, "TokenByHash revoked", err, store.ErrNotFound)
		// An account's tokens go with it.
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "alice"), nil)
		list, err := s.ListTokens(ctx)
		if err != nil || len(list) != 0 {
			t.Errorf("ListTokens = %+v, %v; want none", list, err)
		}
	}},
}
