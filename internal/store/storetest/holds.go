package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

// Holds is the suite of the legal hold and retention conformance cases.
var Holds = Suite{holdCases, []string{"alice", "bob"}}

const holdRoom = "desk@conference.example.com"

func tombstone(id string) []byte {
	return []byte(`<message xmlns='jabber:client' id='` + id +
		`'><retracted xmlns='urn:xmpp:message-retract:1' stamp='2025-03-04T06:00:00Z'/></message>`)
}

// held returns the kept originals of owner ("" for all) as "id:cause".
func held(t *testing.T, ctx context.Context, s store.Store, q store.HeldQuery) []string {
	t.Helper()
	list, err := s.HeldMessages(ctx, q)
	must(t, "HeldMessages", err)
	var out []string
	for _, h := range list {
		out = append(out, h.Message.ID+":"+h.Cause)
	}
	return out
}

// visible returns owner's archive as the users see it: "id" or
// "id:tombstone".
func visible(t *testing.T, ctx context.Context, s store.Store, owner string) []string {
	t.Helper()
	p, err := s.QueryArchive(ctx, owner, store.ArchiveQuery{Limit: 100})
	must(t, "QueryArchive "+owner, err)
	var out []string
	for _, m := range p.Messages {
		if bytes.Contains(m.Stanza, []byte("<retracted")) {
			out = append(out, m.ID+":tombstone")
		} else {
			out = append(out, m.ID)
		}
	}
	return out
}

func wantList(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

var holdCases = []scenario{
	{"create, read, list, release keeps the record", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		a := store.LegalHold{Name: "case 17", Reason: "litigation", CreatedBy: "cli", Created: t0,
			Users: []string{"bob", "alice", "bob"}, Rooms: []string{holdRoom}, From: archiveT0, To: archiveT0.Add(time.Hour)}
		id, err := s.CreateHold(ctx, a)
		must(t, "CreateHold", err)
		id2, err := s.CreateHold(ctx, store.LegalHold{Name: "open", CreatedBy: "admin-token:x", Users: []string{"carol"}})
		must(t, "CreateHold open", err)
		if id2 <= id {
			t.Errorf("ids %d then %d: want ascending", id, id2)
		}
		got, err := s.Hold(ctx, id)
		must(t, "Hold", err)
		if got.ID != id || got.Name != a.Name || got.Reason != a.Reason || got.CreatedBy != "cli" || !got.Created.Equal(t0) ||
			!slices.Equal(got.Users, []string{"alice", "bob"}) || !slices.Equal(got.Rooms, []string{holdRoom}) ||
			!got.From.Equal(a.From) || !got.To.Equal(a.To) || !got.Active() {
			t.Errorf("Hold = %+v, want %+v as created", got, a)
		}
		open, err := s.Hold(ctx, id2)
		if err != nil || !open.From.IsZero() || !open.To.IsZero() || open.Rooms != nil || open.Created.IsZero() {
			t.Errorf("open hold = %+v, %v: want open ends, no rooms, a creation time", open, err)
		}
		_, err = s.Hold(ctx, id2+100)
		wantErr(t, "Hold unknown", err, store.ErrNotFound)

		at := t0.Add(time.Hour)
		must(t, "ReleaseHold", s.ReleaseHold(ctx, id, "admin-token:y", at))
		wantErr(t, "ReleaseHold again", s.ReleaseHold(ctx, id, "cli", at), store.ErrNotFound)
		wantErr(t, "ReleaseHold unknown", s.ReleaseHold(ctx, id2+100, "cli", at), store.ErrNotFound)
		list, err := s.ListHolds(ctx)
		must(t, "ListHolds", err)
		if len(list) != 2 || list[0].ID != id || list[1].ID != id2 || !list[0].Released.Equal(at) ||
			list[0].ReleasedBy != "admin-token:y" || list[0].Name != "case 17" || !list[1].Active() {
			t.Errorf("ListHolds = %+v: want the released hold kept, then the open one", list)
		}
	}},
	{"import keeps ids, releases and kept originals", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		h := store.LegalHold{ID: 7, Name: "old case", Reason: "r", CreatedBy: "cli", Created: t0, Users: []string{"alice"},
			To: t0, Released: t0.Add(time.Hour), ReleasedBy: "admin-token:a"}
		must(t, "ImportHold", s.ImportHold(ctx, h))
		wantErr(t, "ImportHold again", s.ImportHold(ctx, h), store.ErrExists)
		got, err := s.Hold(ctx, 7)
		if err != nil || got.Name != h.Name || !got.Released.Equal(h.Released) || got.ReleasedBy != h.ReleasedBy ||
			!got.To.Equal(t0) || !slices.Equal(got.Users, h.Users) {
			t.Errorf("imported hold = %+v, %v; want %+v", got, err, h)
		}
		id, err := s.CreateHold(ctx, store.LegalHold{Name: "new", Rooms: []string{holdRoom}})
		if err != nil || id <= 7 {
			t.Errorf("CreateHold after an import = %d, %v; want an id after 7", id, err)
		}
		m := store.HeldMessage{Message: archMsg("alice", 3, "bob@example.com", "gone"), Held: t0.Add(time.Minute), Cause: store.HeldDeleted}
		must(t, "ImportHeld", s.ImportHeld(ctx, m))
		wantErr(t, "ImportHeld again", s.ImportHeld(ctx, m), store.ErrExists)
		list, err := s.HeldMessages(ctx, store.HeldQuery{})
		if err != nil || len(list) != 1 || list[0].Message.ID != m.Message.ID || !list[0].Held.Equal(m.Held) ||
			!list[0].Message.Stamp.Equal(m.Message.Stamp) || list[0].Message.Text != "gone" || list[0].Cause != store.HeldDeleted {
			t.Errorf("HeldMessages = %+v, %v; want the imported original", list, err)
		}
	}},
	{"retraction and moderation under a hold keep the original", func(t *testing.T, ctx context.Context, s store.Store) {
		var msgs []store.ArchivedMessage
		for i := range 4 {
			msgs = append(msgs, archMsg("alice", i, "bob@example.com", fmt.Sprintf("plan %d", i)))
		}
		must(t, "AppendArchive", s.AppendArchive(ctx, msgs))
		// From the second message's stamp on: the first is not covered.
		_, err := s.CreateHold(ctx, store.LegalHold{Name: "h", Users: []string{"alice"}, From: msgs[1].Stamp})
		must(t, "CreateHold", err)
		for _, i := range []int{0, 1, 2} {
			must(t, "RetractArchived", s.RetractArchived(ctx, "alice", msgs[i].ID, tombstone(msgs[i].ID)))
		}
		// A moderation after the retraction: the first original stays.
		must(t, "RetractArchived again", s.RetractArchived(ctx, "alice", msgs[1].ID, tombstone(msgs[1].ID+"-moderated")))
		wantList(t, "alice's archive", visible(t, ctx, s, "alice"),
			msgs[0].ID+":tombstone", msgs[1].ID+":tombstone", msgs[2].ID+":tombstone", msgs[3].ID)
		list, err := s.HeldMessages(ctx, store.HeldQuery{Owner: "alice"})
		must(t, "HeldMessages", err)
		if len(list) != 2 {
			t.Fatalf("HeldMessages = %+v, want messages 1 and 2", list)
		}
		for i, h := range list {
			m := msgs[i+1]
			if h.Message.ID != m.ID || h.Message.Owner != "alice" || h.Message.With != m.With || !h.Message.Stamp.Equal(m.Stamp) ||
				!bytes.Equal(h.Message.Stanza, m.Stanza) || h.Message.Text != m.Text || h.Cause != store.HeldRetracted || h.Held.IsZero() {
				t.Errorf("held %d = %+v, want the original of %+v, retracted", i, h, m)
			}
		}
		if list[1].Seq <= list[0].Seq {
			t.Errorf("held seqs %d, %d: want ascending", list[0].Seq, list[1].Seq)
		}
		wantList(t, "HeldMessages after the first", held(t, ctx, s, store.HeldQuery{After: list[0].Seq}), msgs[2].ID+":retracted")
		wantList(t, "HeldMessages of bob", held(t, ctx, s, store.HeldQuery{Owner: "bob"}))
		wantList(t, "HeldMessages by stamp", held(t, ctx, s, store.HeldQuery{Start: msgs[2].Stamp}), msgs[2].ID+":retracted")
		// Full-text search no longer finds the retracted messages.
		p, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Text: "plan", Limit: 10})
		if err != nil || len(p.Messages) != 1 || p.Messages[0].ID != msgs[3].ID {
			t.Errorf("search after retraction = %+v, %v; want message 3 alone", p.Messages, err)
		}
	}},
	{"deleting accounts, archives and rooms under a hold keeps the originals", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "carol")
		must(t, "PutRoom", s.PutRoom(ctx, store.Room{JID: holdRoom, Config: []byte("{}"), Secret: []byte("s")}))
		var all []store.ArchivedMessage
		for _, owner := range []string{"alice", "bob", "carol", holdRoom} {
			for i := range 2 {
				all = append(all, archMsg(owner, i, "dave@example.com", "text"))
			}
		}
		must(t, "AppendArchive", s.AppendArchive(ctx, all))
		_, err := s.CreateHold(ctx, store.LegalHold{Name: "h", Users: []string{"alice", "bob"}, Rooms: []string{holdRoom}})
		must(t, "CreateHold", err)
		released, err := s.CreateHold(ctx, store.LegalHold{Name: "gone", Users: []string{"carol"}})
		must(t, "CreateHold carol", err)
		must(t, "ReleaseHold carol", s.ReleaseHold(ctx, released, "cli", time.Now()))
		must(t, "RetractArchived", s.RetractArchived(ctx, "alice", all[0].ID, tombstone(all[0].ID)))
		must(t, "DeleteUser alice", s.DeleteUser(ctx, "alice"))
		must(t, "DeleteArchive bob", s.DeleteArchive(ctx, "bob"))
		must(t, "DeleteUser carol", s.DeleteUser(ctx, "carol"))
		must(t, "DeleteRoom", s.DeleteRoom(ctx, holdRoom))
		wantList(t, "bob's archive", visible(t, ctx, s, "bob"))
		// alice's first was kept at its retraction, not replaced by its
		// tombstone at the deletion; carol's hold was released.
		wantList(t, "held", held(t, ctx, s, store.HeldQuery{}),
			all[0].ID+":retracted", all[1].ID+":deleted", all[2].ID+":deleted", all[3].ID+":deleted",
			all[6].ID+":deleted", all[7].ID+":deleted")
		list, err := s.HeldMessages(ctx, store.HeldQuery{Owner: "alice"})
		if err != nil || len(list) != 2 || !bytes.Equal(list[0].Message.Stanza, all[0].Stanza) {
			t.Errorf("alice's held = %+v, %v; want her original first message", list, err)
		}
		// The account can be made again: its new archive starts empty.
		create(t, ctx, s, "alice")
		wantList(t, "alice's new archive", visible(t, ctx, s, "alice"))
	}},
	{"retention deletes old messages in bounded batches, never held ones", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "carol")
		var all []store.ArchivedMessage
		for _, owner := range []string{"alice", "bob", "carol"} {
			for i := range 5 {
				all = append(all, archMsg(owner, i, "dave@example.com", "text"))
			}
		}
		must(t, "AppendArchive", s.AppendArchive(ctx, all))
		// bob is held for messages 0 and 1 only.
		_, err := s.CreateHold(ctx, store.LegalHold{Name: "h", Users: []string{"bob"}, To: archiveT0.Add(time.Minute)})
		must(t, "CreateHold", err)
		before := archiveT0.Add(3 * time.Minute) // messages 0, 1, 2 are old
		// In archive order: alice 0 1 | 2, bob 0 (held) | 1 (held), 2 | nothing.
		var removed []int
		after := ""
		for i := 0; ; i++ {
			e, err := s.ExpireArchive(ctx, store.RetentionScope{Except: []string{"carol"}}, before, after, 2)
			must(t, "ExpireArchive", err)
			removed = append(removed, e.Removed)
			if e.Done || i == 10 {
				break
			}
			after = e.Next
		}
		if fmt.Sprint(removed) != "[2 1 1 0]" {
			t.Fatalf("ExpireArchive batches of 2 removed %v, want [2 1 1 0]: held rows examined once", removed)
		}
		if e, err := s.ExpireArchive(ctx, store.RetentionScope{Except: []string{"carol"}}, before, "", 100); err != nil || e.Removed != 0 || !e.Done {
			t.Fatalf("ExpireArchive again = %+v, %v; want none left", e, err)
		}
		id := func(owner string, is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, archMsg(owner, i, "", "").ID)
			}
			return out
		}
		wantList(t, "alice", visible(t, ctx, s, "alice"), id("alice", 3, 4)...)
		wantList(t, "bob", visible(t, ctx, s, "bob"), id("bob", 0, 1, 3, 4)...)
		wantList(t, "carol", visible(t, ctx, s, "carol"), id("carol", 0, 1, 2, 3, 4)...)
		if e, err := s.ExpireArchive(ctx, store.RetentionScope{Owners: []string{"carol"}}, archiveT0.Add(time.Minute), "", 100); err != nil || e.Removed != 1 {
			t.Fatalf("ExpireArchive carol = %+v, %v; want 1", e, err)
		}
		wantList(t, "carol", visible(t, ctx, s, "carol"), id("carol", 1, 2, 3, 4)...)
		wantList(t, "held", held(t, ctx, s, store.HeldQuery{}))
	}},
	{"retention of offline messages and uploads", func(t *testing.T, ctx context.Context, s store.Store) {
		for i := range 3 {
			for _, u := range []string{"alice", "bob"} {
				must(t, "StoreOffline", s.StoreOffline(ctx, u, store.OfflineMessage{Stamp: archiveT0.Add(time.Duration(i) * time.Hour),
					Stanza: []byte(fmt.Sprintf("<message id='%s%d'/>", u, i))}))
				id := fmt.Sprintf("%s-upload-%d", u, i)
				created := archiveT0.Add(time.Duration(i) * time.Hour)
				must(t, "ReserveUpload", s.ReserveUpload(ctx, store.Upload{ID: id, Owner: u, Name: "f", Size: 1,
					ContentType: "text/plain", Created: created, Expires: created.Add(time.Minute)}))
				must(t, "ClaimUpload", s.ClaimUpload(ctx, id, created, created.Add(time.Minute)))
				must(t, "FinishUpload", s.FinishUpload(ctx, id, created, created.Add(365*24*time.Hour)))
			}
		}
		must(t, "ReserveUpload unused", s.ReserveUpload(ctx, store.Upload{ID: "alice-slot", Owner: "alice", Name: "f", Size: 1,
			Created: archiveT0, Expires: archiveT0.Add(30 * 24 * time.Hour)}))
		_, err := s.CreateHold(ctx, store.LegalHold{Name: "h", Users: []string{"bob"}, From: archiveT0.Add(time.Hour)})
		must(t, "CreateHold", err)
		before := archiveT0.Add(2 * time.Hour) // 0 and 1 are old
		if e, err := s.ExpireOffline(ctx, store.RetentionScope{}, before, "", 100); err != nil || e.Removed != 3 || !e.Done {
			t.Fatalf("ExpireOffline = %+v, %v; want alice's 0 and 1, bob's 0", e, err)
		}
		for u, want := range map[string]int{"alice": 1, "bob": 2} {
			if c, err := s.CountOffline(ctx, u); err != nil || c != want {
				t.Errorf("CountOffline(%s) = %d, %v; want %d", u, c, err, want)
			}
		}
		now := archiveT0.Add(24 * time.Hour)
		e, err := s.ExpireUploads(ctx, store.RetentionScope{}, before, now, "", 1)
		if err != nil || e.Removed != 1 || e.Done || e.Next != "alice-upload-0" {
			t.Fatalf("ExpireUploads limit 1 = %+v, %v; want alice-upload-0", e, err)
		}
		e, err = s.ExpireUploads(ctx, store.RetentionScope{Owners: []string{"alice", "bob"}}, before, now, e.Next, 100)
		if err != nil || e.Removed != 2 || !e.Done {
			t.Fatalf("ExpireUploads = %+v, %v; want 2 more, done", e, err)
		}
		ids, err := s.ExpiredUploads(ctx, now.Add(time.Nanosecond), 100)
		must(t, "ExpiredUploads", err)
		slices.Sort(ids)
		wantList(t, "expired uploads", ids, "alice-upload-0", "alice-upload-1", "bob-upload-0")
	}},
	{"a held account's files outlive their expiry and the account", func(t *testing.T, ctx context.Context, s store.Store) {
		stored := func(id, owner string, created time.Time) {
			t.Helper()
			must(t, "ReserveUpload", s.ReserveUpload(ctx, store.Upload{ID: id, Owner: owner, Name: "f", Size: 1,
				ContentType: "text/plain", Created: created, Expires: created.Add(time.Minute)}))
			must(t, "ClaimUpload", s.ClaimUpload(ctx, id, created, created.Add(time.Minute)))
			must(t, "FinishUpload", s.FinishUpload(ctx, id, created, created.Add(time.Hour)))
		}
		stored("alice-before", "alice", archiveT0) // before the hold's range
		stored("alice-held", "alice", archiveT0.Add(2*time.Hour))
		stored("bob-file", "bob", archiveT0.Add(2*time.Hour))
		must(t, "ReserveUpload slot", s.ReserveUpload(ctx, store.Upload{ID: "alice-slot", Owner: "alice", Name: "f", Size: 1,
			Created: archiveT0.Add(2 * time.Hour), Expires: archiveT0.Add(2*time.Hour + time.Minute)}))
		hold, err := s.CreateHold(ctx, store.LegalHold{Name: "h", Users: []string{"alice"}, From: archiveT0.Add(time.Hour)})
		must(t, "CreateHold", err)
		expired := func(what string, want ...string) {
			t.Helper()
			ids, err := s.ExpiredUploads(ctx, archiveT0.Add(24*time.Hour), 100)
			must(t, "ExpiredUploads", err)
			slices.Sort(ids)
			wantList(t, what, ids, want...)
		}
		expired("expired while held", "alice-before", "alice-slot", "bob-file")
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		expired("expired once the account is deleted", "alice-before", "alice-slot", "bob-file")
		if u, err := s.Upload(ctx, "alice-held"); err != nil || u.State != store.UploadStored {
			t.Fatalf("held upload after the account's deletion = %+v, %v; want it stored", u, err)
		}
		must(t, "ReleaseHold", s.ReleaseHold(ctx, hold, "cli", archiveT0.Add(3*time.Hour)))
		expired("expired after the release", "alice-before", "alice-held", "alice-slot", "bob-file")
	}},
}
