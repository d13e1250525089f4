package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

// Uploads is the suite of the upload conformance cases (XEP-0363 metadata).
var Uploads = Suite{uploadCases, []string{"alice", "bob"}}

var uploadT0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func reserve(t *testing.T, ctx context.Context, s store.Store, id, owner string, size int64, created time.Time, ttl time.Duration) {
	t.Helper()
	must(t, "ReserveUpload "+id, s.ReserveUpload(ctx, store.Upload{ID: id, Owner: owner, Name: id + ".png",
		Size: size, ContentType: "image/png", Created: created, Expires: created.Add(ttl)}))
}

var uploadCases = []scenario{
	{"reserve, claim, finish, read back", func(t *testing.T, ctx context.Context, s store.Store) {
		reserve(t, ctx, s, "a1", "alice", 10, uploadT0, time.Minute)
		wantErr(t, "ReserveUpload again", s.ReserveUpload(ctx, store.Upload{ID: "a1", Owner: "bob", Created: uploadT0, Expires: uploadT0}), store.ErrExists)
		u, err := s.Upload(ctx, "a1")
		must(t, "Upload", err)
		want := store.Upload{ID: "a1", Owner: "alice", Name: "a1.png", Size: 10, ContentType: "image/png",
			Created: uploadT0, Expires: uploadT0.Add(time.Minute), State: store.UploadReserved}
		if u != want {
			t.Fatalf("Upload = %+v, want %+v", u, want)
		}
		must(t, "ClaimUpload", s.ClaimUpload(ctx, "a1", uploadT0.Add(time.Second), uploadT0.Add(time.Hour)))
		wantErr(t, "ClaimUpload twice", s.ClaimUpload(ctx, "a1", uploadT0.Add(time.Second), uploadT0.Add(time.Hour)), store.ErrNotFound)
		// Being written, it expires at the PUT's deadline, not the slot's.
		if ids, _ := s.ExpiredUploads(ctx, uploadT0.Add(30*time.Minute), 10); len(ids) != 0 {
			t.Fatalf("an upload being written expired at the slot's expiry: %q", ids)
		}
		if ids, _ := s.ExpiredUploads(ctx, uploadT0.Add(time.Hour), 10); !slices.Equal(ids, []string{"a1"}) {
			t.Fatalf("an upload being written did not expire at its deadline: %q", ids)
		}
		stored := uploadT0.Add(2 * time.Second)
		must(t, "FinishUpload", s.FinishUpload(ctx, "a1", stored, stored.Add(24*time.Hour)))
		wantErr(t, "FinishUpload twice", s.FinishUpload(ctx, "a1", stored, stored), store.ErrNotFound)
		wantErr(t, "ClaimUpload stored", s.ClaimUpload(ctx, "a1", stored, stored), store.ErrNotFound)
		u, err = s.Upload(ctx, "a1")
		must(t, "Upload", err)
		if u.State != store.UploadStored || !u.Created.Equal(stored) || !u.Expires.Equal(stored.Add(24*time.Hour)) {
			t.Fatalf("after FinishUpload: %+v", u)
		}
		_, err = s.Upload(ctx, "nope")
		wantErr(t, "Upload unknown", err, store.ErrNotFound)
	}},
	{"an expired slot cannot be claimed; a released one can", func(t *testing.T, ctx context.Context, s store.Store) {
		reserve(t, ctx, s, "x", "alice", 1, uploadT0, time.Minute)
		wantErr(t, "ClaimUpload at expiry", s.ClaimUpload(ctx, "x", uploadT0.Add(time.Minute), uploadT0.Add(time.Hour)), store.ErrNotFound)
		must(t, "ClaimUpload", s.ClaimUpload(ctx, "x", uploadT0, uploadT0.Add(time.Minute)))
		wantErr(t, "ReleaseUpload unknown", s.ReleaseUpload(ctx, "nope"), store.ErrNotFound)
		must(t, "ReleaseUpload", s.ReleaseUpload(ctx, "x"))
		wantErr(t, "ReleaseUpload reserved", s.ReleaseUpload(ctx, "x"), store.ErrNotFound)
		must(t, "ClaimUpload after release", s.ClaimUpload(ctx, "x", uploadT0, uploadT0.Add(time.Minute)))
	}},
	{"usage counts live uploads of the owner", func(t *testing.T, ctx context.Context, s store.Store) {
		reserve(t, ctx, s, "old", "alice", 100, uploadT0, 72*time.Hour)
		reserve(t, ctx, s, "new1", "alice", 20, uploadT0.Add(48*time.Hour), 2*time.Hour)
		reserve(t, ctx, s, "new2", "alice", 3, uploadT0.Add(49*time.Hour), time.Hour)
		reserve(t, ctx, s, "gone", "alice", 1000, uploadT0, time.Hour)
		reserve(t, ctx, s, "bobs", "bob", 7, uploadT0.Add(48*time.Hour), time.Hour)
		now := uploadT0.Add(49*time.Hour + time.Minute)
		u, err := s.UploadUsage(ctx, "alice", now.Add(-24*time.Hour), now)
		must(t, "UploadUsage", err)
		want := store.UploadUsage{Bytes: 123, Count: 3, SinceBytes: 23, SinceOldest: uploadT0.Add(48 * time.Hour), NextExpiry: uploadT0.Add(50 * time.Hour)}
		if u != want {
			t.Fatalf("UploadUsage = %+v, want %+v", u, want)
		}
		u, err = s.UploadUsage(ctx, "carol", now.Add(-24*time.Hour), now)
		must(t, "UploadUsage of nobody", err)
		if u != (store.UploadUsage{}) {
			t.Fatalf("UploadUsage of nobody = %+v", u)
		}
	}},
	{"expired uploads in bounded batches, then deleted", func(t *testing.T, ctx context.Context, s store.Store) {
		for i := range 5 {
			reserve(t, ctx, s, fmt.Sprint("e", i), "alice", 1, uploadT0, time.Duration(5-i)*time.Minute)
		}
		reserve(t, ctx, s, "live", "alice", 1, uploadT0, time.Hour)
		now := uploadT0.Add(10 * time.Minute)
		ids, err := s.ExpiredUploads(ctx, now, 3)
		must(t, "ExpiredUploads", err)
		if !slices.Equal(ids, []string{"e4", "e3", "e2"}) {
			t.Fatalf("ExpiredUploads = %q", ids)
		}
		must(t, "DeleteUploads", s.DeleteUploads(ctx, append(ids, "unknown")))
		ids, err = s.ExpiredUploads(ctx, now, 3)
		must(t, "ExpiredUploads", err)
		if !slices.Equal(ids, []string{"e1", "e0"}) {
			t.Fatalf("ExpiredUploads after delete = %q", ids)
		}
		must(t, "DeleteUploads", s.DeleteUploads(ctx, ids))
		must(t, "DeleteUploads none", s.DeleteUploads(ctx, nil))
		if _, err := s.Upload(ctx, "live"); err != nil {
			t.Fatalf("live upload: %v", err)
		}
	}},
	{"deleting the account expires its uploads", func(t *testing.T, ctx context.Context, s store.Store) {
		now := time.Now()
		reserve(t, ctx, s, "a", "alice", 5, now, time.Hour)
		reserve(t, ctx, s, "b", "bob", 5, now, time.Hour)
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		ids, err := s.ExpiredUploads(ctx, now, 10)
		must(t, "ExpiredUploads", err)
		if !slices.Equal(ids, []string{"a"}) {
			t.Fatalf("ExpiredUploads after deleting alice = %q", ids)
		}
		u, err := s.UploadUsage(ctx, "alice", now.Add(-time.Hour), now)
		must(t, "UploadUsage", err)
		if u.Count != 0 {
			t.Fatalf("a deleted account still holds %+v", u)
		}
	}},
	{"an owner's stored, live uploads, oldest first", func(t *testing.T, ctx context.Context, s store.Store) {
		stored := func(id, owner string, created time.Time, ttl time.Duration) {
			t.Helper()
			reserve(t, ctx, s, id, owner, 1, created, time.Hour)
			must(t, "ClaimUpload "+id, s.ClaimUpload(ctx, id, created, created.Add(time.Hour)))
			must(t, "FinishUpload "+id, s.FinishUpload(ctx, id, created, created.Add(ttl)))
		}
		stored("b", "alice", uploadT0.Add(time.Minute), 24*time.Hour)
		stored("a", "alice", uploadT0.Add(2*time.Minute), 24*time.Hour)
		stored("old", "alice", uploadT0, time.Hour)
		stored("bobs", "bob", uploadT0, 24*time.Hour)
		reserve(t, ctx, s, "slot", "alice", 1, uploadT0, 24*time.Hour)
		list, err := s.UserUploads(ctx, "alice", uploadT0.Add(time.Hour))
		must(t, "UserUploads", err)
		var ids []string
		for _, u := range list {
			ids = append(ids, u.ID)
			if u.Owner != "alice" || u.State != store.UploadStored || u.Name != u.ID+".png" {
				t.Errorf("UserUploads gave %+v", u)
			}
		}
		if !slices.Equal(ids, []string{"b", "a"}) {
			t.Fatalf("UserUploads = %q, want [b a] (stored, not expired, oldest first)", ids)
		}
		if list, err := s.UserUploads(ctx, "nobody", uploadT0); err != nil || len(list) != 0 {
			t.Fatalf("UserUploads of nobody = %v, %v", list, err)
		}
	}},
}
