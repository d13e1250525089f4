package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"parley/internal/store"
)

// Fast is the suite of the FAST token conformance cases (XEP-0484 devices and
// their two token slots).
var Fast = Suite{fastCases, []string{"alice", "bob"}}

func fastDevice(ua string, t0 time.Time) store.FastDevice {
	return store.FastDevice{UserAgent: ua, Software: "AwesomeXMPP", Name: "Kiva's Phone", Mechanism: "HT-SHA-256-NONE",
		Next:    store.FastToken{Verifier: []byte("v-next-" + ua), Responder: []byte("r-next"), Expires: t0.Add(30 * 24 * time.Hour)},
		Created: t0}
}

var fastCases = []scenario{
	{"save_read_list", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		a := fastDevice("d4565fa7-4d72-4749-b3d3-740edbf87770", t0)
		b := fastDevice("0b6a3b8e-6d7f-4a53-9d0a-3b1f1c9e2a77", t0.Add(time.Second))
		b.Name = "Laptop"
		wantErr(t, "SaveFastDevice", s.SaveFastDevice(ctx, "alice", b), nil)
		wantErr(t, "SaveFastDevice", s.SaveFastDevice(ctx, "alice", a), nil)
		wantErr(t, "SaveFastDevice", s.SaveFastDevice(ctx, "bob", fastDevice("bob's", t0)), nil)
		got, err := s.FastDevice(ctx, "alice", a.UserAgent)
		wantErr(t, "FastDevice", err, nil)
		if !reflect.DeepEqual(got.Next, a.Next) || !got.Current.Empty() || got.Name != a.Name ||
			got.Software != a.Software || got.Mechanism != a.Mechanism || !got.Created.Equal(t0) || !got.Used.IsZero() {
			t.Fatalf("device %+v, want %+v", got, a)
		}
		list, err := s.FastDevices(ctx, "alice")
		wantErr(t, "FastDevices", err, nil)
		if len(list) != 2 || list[0].UserAgent != a.UserAgent || list[1].UserAgent != b.UserAgent || list[1].Name != "Laptop" {
			t.Fatalf("devices %+v, want a then b", list)
		}
		if _, err := s.FastDevice(ctx, "bob", a.UserAgent); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("alice's device under bob: %v, want ErrNotFound", err)
		}
	}},
	{"rotate_slots", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		d := fastDevice("ua", t0)
		wantErr(t, "SaveFastDevice", s.SaveFastDevice(ctx, "alice", d), nil)
		// The client logs in with the new token: it becomes current.
		d.Current, d.Next, d.Used = d.Next, store.FastToken{}, t0.Add(time.Hour)
		wantErr(t, "SaveFastDevice", s.SaveFastDevice(ctx, "alice", d), nil)
		got, err := s.FastDevice(ctx, "alice", "ua")
		wantErr(t, "FastDevice", err, nil)
		if !reflect.DeepEqual(got.Current, d.Current) || !got.Next.Empty() || !got.Used.Equal(d.Used) {
			t.Fatalf("after use: %+v", got)
		}
		if list, _ := s.FastDevices(ctx, "alice"); len(list) != 1 {
			t.Fatalf("saving again added a device: %+v", list)
		}
	}},
	{"delete_and_unknown_account", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := s.SaveFastDevice(ctx, "nobody", fastDevice("ua", t0)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SaveFastDevice for no account: %v, want ErrNotFound", err)
		}
		wantErr(t, "SaveFastDevice", s.SaveFastDevice(ctx, "alice", fastDevice("ua", t0)), nil)
		wantErr(t, "SaveFastDevice", s.SaveFastDevice(ctx, "alice", fastDevice("ub", t0)), nil)
		wantErr(t, "DeleteFastDevice", s.DeleteFastDevice(ctx, "alice", "ua"), nil)
		wantErr(t, "DeleteFastDevice again", s.DeleteFastDevice(ctx, "alice", "ua"), store.ErrNotFound)
		if _, err := s.FastDevice(ctx, "alice", "ua"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted device: %v", err)
		}
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "alice"), nil)
		create(t, ctx, s, "alice")
		if got, err := s.FastDevices(ctx, "alice"); err != nil || len(got) != 0 {
			t.Fatalf("a new account of the same name has %+v, %v", got, err)
		}
	}},
}
