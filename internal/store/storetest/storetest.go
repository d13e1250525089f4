package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/store"
)

// Run runs the whole suite. open must return a new, empty store on every
// call (each case gets its own); Run closes every store it opened, so open
// may close it again in a Cleanup only if Close tolerates a second call.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Users", func(t *testing.T) { runCases(t, open, userCases) })
	t.Run("UnknownUser", func(t *testing.T) { runCases(t, open, unknownUserCases()) })
	t.Run("Rosters", func(t *testing.T) { runCases(t, open, rosterCases) })
	t.Run("Offline", func(t *testing.T) { runCases(t, open, offlineCases) })
	t.Run("VCards", func(t *testing.T) { runCases(t, open, vcardCases) })
	t.Run("PrivateXML", func(t *testing.T) { runCases(t, open, privateCases) })
	t.Run("Blocklists", func(t *testing.T) { runCases(t, open, blocklistCases) })
}

// Suite is the conformance cases of one part of store.Store.
type Suite struct {
	cases []scenario
	users []string // created before each case
}

// Run runs the suite's cases. open has the contract of the package's
// Run.
func (s Suite) Run(t *testing.T, open func(t *testing.T) store.Store) {
	runCases(t, open, s.cases, s.users...)
}

// scenario is one numbered case of a suite: a short story told against
// a fresh store.
type scenario struct {
	name string
	run  func(t *testing.T, ctx context.Context, s store.Store)
}

// runCases runs each case on a store open returns, closed when the case
// ends; users, when given, are created first.
func runCases(t *testing.T, open func(t *testing.T) store.Store, cases []scenario, users ...string) {
	for i, tc := range cases {
		t.Run(strconv.Itoa(i)+"_"+tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			create(t, t.Context(), s, users...)
			tc.run(t, t.Context(), s)
		})
	}
}

// user returns an account whose keys are derived from its name, so two
// users never share keys by accident.
func user(name string) store.User {
	k := func(h string, n int) store.ScramKeys {
		return store.ScramKeys{
			Salt:       []byte(h + "-salt-" + name),
			Iterations: n,
			StoredKey:  []byte(h + "-stored-" + name),
			ServerKey:  []byte(h + "-server-" + name),
		}
	}
	return store.User{
		Username: name,
		SHA1:     k("sha1", 4096),
		SHA256:   k("sha256", 8192),
		Created:  time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
	}
}

// create makes accounts or fails the test.
func create(t *testing.T, ctx context.Context, s store.Store, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := s.CreateUser(ctx, user(n)); err != nil {
			t.Fatalf("CreateUser(%q): %v", n, err)
		}
	}
}

// wantErr fails unless errors.Is(err, want); want nil means no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil {
		t.Fatalf("%s: unexpected error %v", what, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, nil)
}

func equalKeys(a, b store.ScramKeys) bool {
	return bytes.Equal(a.Salt, b.Salt) && a.Iterations == b.Iterations &&
		bytes.Equal(a.StoredKey, b.StoredKey) && bytes.Equal(a.ServerKey, b.ServerKey)
}

// wantUser fails t unless GetUser reads want; what names the read in the
// failure.
func wantUser(t *testing.T, ctx context.Context, s store.Store, what string, want store.User) {
	t.Helper()
	got, err := s.GetUser(ctx, want.Username)
	must(t, what, err)
	if !equalUser(got, want) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

func equalUser(a, b store.User) bool {
	return a.Username == b.Username && equalKeys(a.SHA1, b.SHA1) &&
		equalKeys(a.SHA256, b.SHA256) && a.Created.Equal(b.Created) && a.Disabled == b.Disabled && a.Bot == b.Bot
}

// equalItem compares roster items, treating nil and empty slices alike.
func equalItem(a, b store.RosterItem) bool {
	return a.JID == b.JID && a.Name == b.Name && slices.Equal(a.Groups, b.Groups) &&
		a.Subscription == b.Subscription && a.AskOut == b.AskOut &&
		a.PendingIn == b.PendingIn && a.PreApproved == b.PreApproved &&
		bytes.Equal(a.PendingInStanza, b.PendingInStanza) && a.Hidden == b.Hidden
}

// equalRoster compares rosters as sets: the order of Roster is unspecified.
func equalRoster(got, want []store.RosterItem) bool {
	byJID := func(a, b store.RosterItem) int { return strings.Compare(a.JID, b.JID) }
	got = slices.SortedFunc(slices.Values(got), byJID)
	want = slices.SortedFunc(slices.Values(want), byJID)
	return slices.EqualFunc(got, want, equalItem)
}

// wantStrings compares string lists, treating nil and empty alike.
func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// recent fails unless tm lies within [before, after], allowing for a
// backend that keeps only microseconds.
func recent(t *testing.T, what string, tm, before, after time.Time) {
	t.Helper()
	if tm.Before(before.Truncate(time.Microsecond)) || tm.After(after) {
		t.Fatalf("%s = %v, want between %v and %v", what, tm, before, after)
	}
}

func describe(items []store.RosterItem) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%+v\n", it)
	}
	return b.String()
}

func errorsIsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
