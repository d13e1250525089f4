package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"parley/internal/store"
)

// Push is the suite of the push registration conformance cases (XEP-0357).
var Push = Suite{pushCases, []string{"alice", "bob"}}

var pushCases = []scenario{
	{"enable_replaces_per_service_and_node", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		form := []byte("<x xmlns='jabber:x:data' type='submit'/>")
		regs := []store.PushRegistration{
			{Service: "push.example", Node: "n1", Options: form, Created: t0},
			{Service: "push.example", Node: "n2", Created: t0.Add(time.Second)},
			{Service: "other.example", Node: "n1", Created: t0.Add(2 * time.Second)},
		}
		for _, r := range regs {
			wantErr(t, "EnablePush", s.EnablePush(ctx, "alice", r), nil)
		}
		// The same service and node again replaces, it does not add.
		again := store.PushRegistration{Service: "push.example", Node: "n1", Created: t0.Add(3 * time.Second)}
		wantErr(t, "EnablePush again", s.EnablePush(ctx, "alice", again), nil)
		got, err := s.PushRegistrations(ctx, "alice")
		wantErr(t, "PushRegistrations", err, nil)
		want := []store.PushRegistration{regs[1], regs[2], again}
		if len(got) != len(want) {
			t.Fatalf("registrations %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i].Service != want[i].Service || got[i].Node != want[i].Node ||
				string(got[i].Options) != string(want[i].Options) || !got[i].Created.Equal(want[i].Created) {
				t.Errorf("registration %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if other, err := s.PushRegistrations(ctx, "bob"); err != nil || len(other) != 0 {
			t.Errorf("bob's registrations %+v, %v; want none", other, err)
		}
	}},
	{"options_kept", func(t *testing.T, ctx context.Context, s store.Store) {
		form := []byte("<x xmlns='jabber:x:data' type='submit'><field var='secret'><value>s3</value></field></x>")
		wantErr(t, "EnablePush", s.EnablePush(ctx, "alice", store.PushRegistration{Service: "p.example", Node: "n", Options: form}), nil)
		got, err := s.PushRegistrations(ctx, "alice")
		if err != nil || len(got) != 1 || string(got[0].Options) != string(form) || got[0].Created.IsZero() {
			t.Fatalf("registrations %+v, %v", got, err)
		}
	}},
	{"disable_one_node_or_all", func(t *testing.T, ctx context.Context, s store.Store) {
		for _, n := range []string{"n1", "n2", "n3"} {
			wantErr(t, "EnablePush", s.EnablePush(ctx, "alice", store.PushRegistration{Service: "push.example", Node: n}), nil)
		}
		wantErr(t, "EnablePush", s.EnablePush(ctx, "alice", store.PushRegistration{Service: "other.example", Node: "n1"}), nil)
		wantErr(t, "EnablePush", s.EnablePush(ctx, "bob", store.PushRegistration{Service: "push.example", Node: "n1"}), nil)
		if n, err := s.DisablePush(ctx, "alice", "push.example", "n2"); err != nil || n != 1 {
			t.Fatalf("DisablePush n2 = %d, %v; want 1", n, err)
		}
		if n, err := s.DisablePush(ctx, "alice", "push.example", "n2"); err != nil || n != 0 {
			t.Fatalf("DisablePush n2 again = %d, %v; want 0", n, err)
		}
		if n, err := s.DisablePush(ctx, "alice", "push.example", ""); err != nil || n != 2 {
			t.Fatalf("DisablePush all of push.example = %d, %v; want 2", n, err)
		}
		got, _ := s.PushRegistrations(ctx, "alice")
		if len(got) != 1 || got[0].Service != "other.example" {
			t.Errorf("alice keeps %+v, want other.example only", got)
		}
		if got, _ := s.PushRegistrations(ctx, "bob"); len(got) != 1 {
			t.Errorf("bob keeps %+v, want his one", got)
		}
	}},
	{"unknown_account_and_deletion", func(t *testing.T, ctx context.Context, s store.Store) {
		err := s.EnablePush(ctx, "nobody", store.PushRegistration{Service: "p.example", Node: "n"})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("EnablePush for no account: %v, want ErrNotFound", err)
		}
		wantErr(t, "EnablePush", s.EnablePush(ctx, "alice", store.PushRegistration{Service: "p.example", Node: "n"}), nil)
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "alice"), nil)
		create(t, ctx, s, "alice")
		if got, err := s.PushRegistrations(ctx, "alice"); err != nil || len(got) != 0 {
			t.Fatalf("a new account of the same name has %+v, %v", got, err)
		}
	}},
}
