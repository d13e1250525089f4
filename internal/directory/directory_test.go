package directory_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/audit/audittest"
	"parley/internal/clock"
	"parley/internal/config"
	"parley/internal/directory"
	"parley/internal/directory/slapdtest"
	"parley/internal/jid"
	"parley/internal/sasl"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// take lists what the directory audited since the last take.
func take(r *audittest.Recorder) []string {
	var out []string
	for _, rec := range r.Take() {
		out = append(out, rec.Action+" "+rec.Target)
	}
	return out
}

// Config is the [auth.ldap] of the tests: StartTLS with the test CA, the
// directory's root as service account, dave disabled by the filter.
func Config(s *slapdtest.Slapd) config.LDAP {
	return config.LDAP{URL: s.URL, StartTLS: true, CA: s.CA, BindDN: slapdtest.AdminDN, BindPassword: slapdtest.AdminPassword,
		UserBase: "ou=people," + slapdtest.Suffix, UserFilter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
		GroupBase: "ou=groups," + slapdtest.Suffix, PoolSize: 2}
}

type env struct {
	d     *directory.Directory
	st    store.Store
	audit *audittest.Recorder
	slapd *slapdtest.Slapd
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := slapdtest.Start(t, slapdtest.LDIF)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// carol is also a local account, with a password: it stays local.
	k1, _ := sasl.NewKeys(sasl.SHA1, "local-pw", 4096)
	k256, _ := sasl.NewKeys(sasl.SHA256, "local-pw", 4096)
	if err := st.CreateUser(context.Background(), store.User{Username: "carol", SHA1: k1, SHA256: k256}); err != nil {
		t.Fatal(err)
	}
	rec := &audittest.Recorder{}
	cfg := Config(s)
	d, err := directory.New(directory.Options{Config: cfg, Domain: jid.MustParse("example.com"), Users: st, Audit: rec,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return &env{d: d, st: st, audit: rec, slapd: s}
}

// outcome names what CheckPassword said.
func outcome(err error) string {
	var f *sasl.Failure
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, sasl.ErrUnknownUser):
		return "unknown"
	case errors.As(err, &f):
		return string(f.Condition)
	case errors.Is(err, directory.ErrUnavailable):
		return "unavailable (" + err.Error() + ")"
	}
	return "error: " + err.Error()
}

func TestCheckPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i, tc := range []struct {
		user, password, want string
	}{
		0: {"alice", "alice-pw", "ok"},
		1: {"alice", "wrong", "not-authorized"},
		2: {"bob", "bob-pw", "ok"},
		3: {"dave", "dave-pw", "unknown"}, // disabled: the filter leaves him out
		4: {"nobody", "x", "unknown"},
		5: {"carol", "carol-pw", "unknown"}, // a local account: its keys decide
		6: {"alice", "", "not-authorized"},  // never an unauthenticated bind
		// LDAP injection: escaped, these are literal names nobody has.
		7:  {"*", "alice-pw", "unknown"},
		8:  {"al*", "alice-pw", "unknown"},
		9:  {"*)(uid=*", "alice-pw", "unknown"},
		10: {"alice)(|(uid=*", "alice-pw", "unknown"},
		11: {"alice)(objectClass=*", "alice-pw", "unknown"},
		12: {"alice\x00", "alice-pw", "unknown"},
		13: {"alice\\2a", "alice-pw", "unknown"},
		14: {"*)(employeeType=disabled", "dave-pw", "unknown"},
		15: {"dave)(|(employeeType=*", "dave-pw", "unknown"},
		16: {"ALICE", "alice-pw", "unknown"}, // not normalised: sasl hands over PRECIS output only
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := outcome(e.d.CheckPassword(ctx, tc.user, tc.password)); got != tc.want {
				t.Fatalf("CheckPassword(%q, %q) = %s, want %s", tc.user, tc.password, got, tc.want)
			}
		})
	}
	// A successful login made the accounts, without keys.
	for _, u := range []string{"alice", "bob"} {
		acct, err := e.st.GetUser(ctx, u)
		if err != nil || len(acct.SHA256.StoredKey) != 0 {
			t.Fatalf("account %s: %+v, %v; want one without keys", u, acct, err)
		}
	}
	if _, err := e.st.GetUser(ctx, "dave"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dave has an account: %v", err)
	}
}

func TestSyncGroupsAndLockout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if e.d.Refuses("bob") {
		t.Fatal("refuses before the first sync")
	}
	if err := e.d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	shared := func(u string) []string {
		var out []string
		for k, sc := range e.d.SharedContacts(u) {
			out = append(out, k+" "+sc.Name+" "+strings.Join(sc.Groups, ","))
		}
		slices.Sort(out)
		return out
	}
	// carol is local (she has keys): left out of the directory's groups.
	if got, want := shared("bob"), []string{"alice@example.com Alice Archer Engineering"}; !slices.Equal(got, want) {
		t.Fatalf("bob shares %v, want %v", got, want)
	}
	if got, want := shared("alice"), []string{"bob@example.com Bob Baker Engineering"}; !slices.Equal(got, want) {
		t.Fatalf("alice shares %v, want %v", got, want)
	}
	if _, err := e.st.GetUser(ctx, "bob"); err != nil {
		t.Fatalf("sync made no account for bob: %v", err)
	}
	en, err := e.d.Lookup(ctx, "alice")
	if err != nil || en.DN != "uid=alice,ou=people,dc=example,dc=com" || !slices.Equal(en.Groups, []string{"Engineering"}) ||
		en.Title != "Engineer" || en.Phone != "+1 555 0100" || en.Department != "Engineering" {
		t.Fatalf("Lookup(alice) = %+v, %v", en, err)
	}
	v := e.d.VCard(ctx, "alice")
	photo := v.Child("PHOTO", "vcard-temp")
	if v.ChildText("FN", "vcard-temp") != "Alice Archer" || photo == nil || photo.ChildText("TYPE", "vcard-temp") != "image/jpeg" ||
		v.Child("ORG", "vcard-temp").ChildText("ORGUNIT", "vcard-temp") != "Engineering" {
		t.Fatalf("alice's vCard: %s", xmlstream.Append(nil, v))
	}
	if e.d.VCard(ctx, "carol") != nil {
		t.Fatal("a local account got a directory vCard")
	}

	// A third member joins Engineering; bob leaves the directory.
	e.slapd.Replace("cn=Engineering,ou=groups,dc=example,dc=com", "member",
		"uid=alice,ou=people,dc=example,dc=com", "uid=bob,ou=people,dc=example,dc=com", "uid=dave,ou=people,dc=example,dc=com")
	e.slapd.Replace("uid=dave,ou=people,dc=example,dc=com", "employeeType", "staff")
	e.slapd.Delete("uid=bob,ou=people,dc=example,dc=com")
	if err := e.d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := shared("alice"), []string{"dave@example.com Dave Disabled Engineering"}; !slices.Equal(got, want) {
		t.Fatalf("alice shares %v, want %v", got, want)
	}
	if got, want := take(e.audit), []string{"account-disabled bob@example.com"}; !slices.Equal(got, want) {
		t.Fatalf("audited %v, want %v", got, want)
	}
	if !e.d.Refuses("bob") || e.d.Refuses("alice") {
		t.Fatalf("Refuses(bob) = %v, Refuses(alice) = %v; want true, false", e.d.Refuses("bob"), e.d.Refuses("alice"))
	}
	if got := outcome(e.d.CheckPassword(ctx, "bob", "bob-pw")); got != "account-disabled" {
		t.Fatalf("bob's login after removal: %s", got)
	}
	if got := outcome(e.d.CheckPassword(ctx, "dave", "dave-pw")); got != "ok" {
		t.Fatalf("dave's login once enabled: %s", got)
	}
}

// The directory going away is a temporary failure for directory logins
// only; the last groups stay; it is used again when it returns.
func TestDirectoryDown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := outcome(e.d.CheckPassword(ctx, "alice", "alice-pw")); got != "ok" {
		t.Fatalf("login: %s", got)
	}
	e.slapd.Stop()
	if got := outcome(e.d.CheckPassword(ctx, "alice", "alice-pw")); !strings.HasPrefix(got, "unavailable") {
		t.Fatalf("login with slapd stopped: %s, want unavailable", got)
	}
	if got := outcome(e.d.CheckPassword(ctx, "carol", "local-pw")); got != "unknown" {
		t.Fatalf("local account with slapd stopped: %s, want unknown (the keys decide)", got)
	}
	if err := e.d.Sync(ctx); !errors.Is(err, directory.ErrUnavailable) {
		t.Fatalf("Sync with slapd stopped = %v", err)
	}
	if len(e.d.SharedContacts("alice")) != 1 || len(take(e.audit)) != 0 {
		t.Fatal("a failed sync changed the groups or locked someone out")
	}
	if got := e.d.VCard(ctx, "alice"); got != nil {
		t.Fatalf("vCard with slapd stopped: %v", got)
	}
	e.slapd.Restart()
	if got := outcome(e.d.CheckPassword(ctx, "alice", "alice-pw")); got != "ok" {
		t.Fatalf("login after slapd restarted: %s", got)
	}
	if err := e.d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// Start syncs at once and then every sync_interval (a fake clock here),
// until Close.
func TestPeriodicSync(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.LDIF)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Unix(1e9, 0))
	cfg := Config(s)
	cfg.SyncInterval.Duration = time.Minute
	var syncs []string // what OnSync was told (the loop's goroutine, read after Close)
	d, err := directory.New(directory.Options{Config: cfg, Domain: jid.MustParse("example.com"), Users: st, Clock: clk,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnSync: func(ok bool, users int, _ time.Time) { syncs = append(syncs, fmt.Sprint(ok, users)) }})
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	xmpptest.Eventually(t, 10*time.Second, func() error {
		clk.Advance(0)
		if len(d.SharedContacts("alice")) != 1 {
			return errors.New("no first sync")
		}
		return nil
	})
	s.Delete("uid=bob,ou=people,dc=example,dc=com")
	// The loop re-arms its timer after a sync; then a minute passes.
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if next, ok := clk.Next(); !ok || next != clk.Now().Add(time.Minute) {
			return errors.New("timer not re-armed")
		}
		return nil
	})
	clk.Advance(time.Minute)
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if len(d.SharedContacts("alice")) != 0 {
			return errors.New("bob still shared after the interval")
		}
		return nil
	})
	d.Close()
	// carol is not local here: alice, bob, carol, then alice and carol.
	if want := []string{"true 3", "true 2"}; !slices.Equal(syncs, want) {
		t.Fatalf("OnSync told %v, want %v", syncs, want)
	}
}
