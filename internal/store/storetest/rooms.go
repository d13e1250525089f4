package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"parley/internal/store"
)

// Rooms is the conformance suite of store.Rooms (persistent MUC rooms).
//
// Beyond the interface comments it pins: a room's Created is kept when
// the room is replaced; rooms and affiliations come back in ascending
// byte order; deleting a room deletes its affiliations, so a room created
// again under the same JID starts with none.
var Rooms = Suite{roomCases, nil}

func room(j string) store.Room {
	return store.Room{
		JID:         j,
		Config:      []byte(`{"name":"` + j + `"}`),
		Secret:      []byte("secret-" + j),
		Subject:     "subject of " + j,
		SubjectFrom: j + "/nick",
		Created:     time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
	}
}

func equalRoom(a, b store.Room) bool {
	return a.JID == b.JID && bytes.Equal(a.Config, b.Config) && bytes.Equal(a.Secret, b.Secret) &&
		a.Subject == b.Subject && a.SubjectFrom == b.SubjectFrom && a.Created.Equal(b.Created)
}

func wantAffs(t *testing.T, ctx context.Context, s store.Rooms, rm string, want ...store.RoomAffiliation) {
	t.Helper()
	got, err := s.RoomAffiliations(ctx, rm)
	must(t, "RoomAffiliations", err)
	if len(got) != len(want) {
		t.Fatalf("RoomAffiliations(%s) = %+v, want %+v", rm, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("RoomAffiliations(%s)[%d] = %+v, want %+v", rm, i, got[i], want[i])
		}
	}
}

var roomCases = []scenario{
	{"unknown_is_ErrNotFound", func(t *testing.T, ctx context.Context, s store.Store) {
		_, err := s.GetRoom(ctx, "nowhere@conference.example.com")
		wantErr(t, "GetRoom", err, store.ErrNotFound)
		wantErr(t, "DeleteRoom", s.DeleteRoom(ctx, "nowhere@conference.example.com"), store.ErrNotFound)
		err = s.SetRoomAffiliation(ctx, "nowhere@conference.example.com",
			store.RoomAffiliation{JID: "a@example.com", Affiliation: "owner"})
		wantErr(t, "SetRoomAffiliation", err, store.ErrNotFound)
		wantAffs(t, ctx, s, "nowhere@conference.example.com")
		rooms, err := s.ListRooms(ctx)
		must(t, "ListRooms", err)
		if len(rooms) != 0 {
			t.Fatalf("ListRooms on an empty store = %+v", rooms)
		}
	}},
	{"put_get_round_trip", func(t *testing.T, ctx context.Context, s store.Store) {
		r := room("coven@chat.example.com")
		must(t, "PutRoom", s.PutRoom(ctx, r))
		got, err := s.GetRoom(ctx, r.JID)
		must(t, "GetRoom", err)
		if !equalRoom(got, r) {
			t.Fatalf("GetRoom = %+v, want %+v", got, r)
		}
	}},
	{"replace_keeps_created", func(t *testing.T, ctx context.Context, s store.Store) {
		r := room("coven@chat.example.com")
		must(t, "PutRoom", s.PutRoom(ctx, r))
		r2 := r
		r2.Created = time.Time{}
		r2.Config = []byte(`{"name":"changed"}`)
		r2.Subject = ""
		must(t, "PutRoom again", s.PutRoom(ctx, r2))
		got, err := s.GetRoom(ctx, r.JID)
		must(t, "GetRoom", err)
		r2.Created = r.Created
		if !equalRoom(got, r2) {
			t.Fatalf("GetRoom = %+v, want %+v", got, r2)
		}
	}},
	{"zero_created_is_now", func(t *testing.T, ctx context.Context, s store.Store) {
		r := room("coven@chat.example.com")
		r.Created = time.Time{}
		before := time.Now()
		must(t, "PutRoom", s.PutRoom(ctx, r))
		after := time.Now()
		got, err := s.GetRoom(ctx, r.JID)
		must(t, "GetRoom", err)
		recent(t, "Created", got.Created, before, after)
	}},
	{"list_sorted", func(t *testing.T, ctx context.Context, s store.Store) {
		for _, j := range []string{"b@c.example", "a@c.example", "Z@c.example"} {
			must(t, "PutRoom", s.PutRoom(ctx, room(j)))
		}
		rooms, err := s.ListRooms(ctx)
		must(t, "ListRooms", err)
		var got []string
		for _, r := range rooms {
			got = append(got, r.JID)
		}
		wantStrings(t, "ListRooms", got, []string{"Z@c.example", "a@c.example", "b@c.example"})
		if !equalRoom(rooms[1], room("a@c.example")) {
			t.Fatalf("listed room %+v differs from the stored one", rooms[1])
		}
	}},
	{"affiliations_set_replace_remove", func(t *testing.T, ctx context.Context, s store.Store) {
		const rm = "coven@chat.example.com"
		must(t, "PutRoom", s.PutRoom(ctx, room(rm)))
		owner := store.RoomAffiliation{JID: "crone@example.com", Affiliation: "owner"}
		member := store.RoomAffiliation{JID: "b@example.com", Affiliation: "member", Nick: "bee"}
		ban := store.RoomAffiliation{JID: "a@example.com", Affiliation: "outcast", Reason: "spam"}
		for _, a := range []store.RoomAffiliation{owner, member, ban} {
			must(t, "SetRoomAffiliation", s.SetRoomAffiliation(ctx, rm, a))
		}
		wantAffs(t, ctx, s, rm, ban, member, owner)
		member.Affiliation = "admin"
		must(t, "SetRoomAffiliation(replace)", s.SetRoomAffiliation(ctx, rm, member))
		must(t, "SetRoomAffiliation(none)", s.SetRoomAffiliation(ctx, rm,
			store.RoomAffiliation{JID: ban.JID, Affiliation: "none"}))
		must(t, "SetRoomAffiliation(absent none)", s.SetRoomAffiliation(ctx, rm,
			store.RoomAffiliation{JID: "x@example.com", Affiliation: ""}))
		wantAffs(t, ctx, s, rm, member, owner)
		// Replacing the room record leaves affiliations alone.
		must(t, "PutRoom", s.PutRoom(ctx, room(rm)))
		wantAffs(t, ctx, s, rm, member, owner)
	}},
	{"affiliations_per_room", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "PutRoom", s.PutRoom(ctx, room("a@c.example")))
		must(t, "PutRoom", s.PutRoom(ctx, room("b@c.example")))
		a := store.RoomAffiliation{JID: "u@example.com", Affiliation: "owner"}
		must(t, "SetRoomAffiliation", s.SetRoomAffiliation(ctx, "a@c.example", a))
		wantAffs(t, ctx, s, "a@c.example", a)
		wantAffs(t, ctx, s, "b@c.example")
	}},
	{"delete_cascades", func(t *testing.T, ctx context.Context, s store.Store) {
		const rm = "coven@chat.example.com"
		must(t, "PutRoom", s.PutRoom(ctx, room(rm)))
		must(t, "SetRoomAffiliation", s.SetRoomAffiliation(ctx, rm,
			store.RoomAffiliation{JID: "crone@example.com", Affiliation: "owner"}))
		must(t, "DeleteRoom", s.DeleteRoom(ctx, rm))
		_, err := s.GetRoom(ctx, rm)
		wantErr(t, "GetRoom after delete", err, store.ErrNotFound)
		wantAffs(t, ctx, s, rm)
		must(t, "PutRoom again", s.PutRoom(ctx, room(rm)))
		wantAffs(t, ctx, s, rm)
	}},
	{"vcard_set_replace_remove", func(t *testing.T, ctx context.Context, s store.Store) {
		const rm = "coven@chat.example.com"
		_, err := s.RoomVCard(ctx, rm)
		wantErr(t, "RoomVCard(unknown room)", err, store.ErrNotFound)
		wantErr(t, "SetRoomVCard(unknown room)", s.SetRoomVCard(ctx, rm, []byte("<vCard/>")), store.ErrNotFound)
		must(t, "PutRoom", s.PutRoom(ctx, room(rm)))
		_, err = s.RoomVCard(ctx, rm)
		wantErr(t, "RoomVCard(none set)", err, store.ErrNotFound)
		for _, v := range []string{`<vCard xmlns="vcard-temp"><FN>a</FN></vCard>`, `<vCard xmlns="vcard-temp"><FN>b</FN></vCard>`} {
			must(t, "SetRoomVCard", s.SetRoomVCard(ctx, rm, []byte(v)))
			got, err := s.RoomVCard(ctx, rm)
			must(t, "RoomVCard", err)
			if string(got) != v {
				t.Fatalf("RoomVCard = %q, want %q", got, v)
			}
		}
		// Replacing the record (a subject change) keeps the vCard.
		must(t, "PutRoom again", s.PutRoom(ctx, room(rm)))
		if got, err := s.RoomVCard(ctx, rm); err != nil || len(got) == 0 {
			t.Fatalf("RoomVCard after PutRoom = %q, %v", got, err)
		}
		must(t, "SetRoomVCard(empty)", s.SetRoomVCard(ctx, rm, nil))
		_, err = s.RoomVCard(ctx, rm)
		wantErr(t, "RoomVCard(removed)", err, store.ErrNotFound)
	}},
	{"vcard_goes_with_room", func(t *testing.T, ctx context.Context, s store.Store) {
		const rm = "coven@chat.example.com"
		must(t, "PutRoom", s.PutRoom(ctx, room(rm)))
		must(t, "PutRoom other", s.PutRoom(ctx, room("other@chat.example.com")))
		must(t, "SetRoomVCard", s.SetRoomVCard(ctx, rm, []byte(`<vCard xmlns="vcard-temp"/>`)))
		_, err := s.RoomVCard(ctx, "other@chat.example.com")
		wantErr(t, "RoomVCard(other room)", err, store.ErrNotFound)
		must(t, "DeleteRoom", s.DeleteRoom(ctx, rm))
		must(t, "PutRoom again", s.PutRoom(ctx, room(rm)))
		_, err = s.RoomVCard(ctx, rm)
		wantErr(t, "RoomVCard(room created again)", err, store.ErrNotFound)
	}},
}
