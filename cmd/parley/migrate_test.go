package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/store"
	"parley/internal/store/postgres"
	"parley/internal/store/sqlite"

	"github.com/jackc/pgx/v5"
)

// migrateCmd runs `parley migrate` in-process with a clean PARLEY_*
// environment.
func migrateCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	for _, k := range []string{config.EnvConfig, config.EnvData, config.EnvDomain, config.EnvStore, config.EnvLogLevel} {
		t.Setenv(k, "")
	}
	var out, errb bytes.Buffer
	return exitStatus(runMigrate(args, &out, &errb), &errb), out.String(), errb.String()
}

// freshPostgres creates an empty database for the test and drops it at
// the end. It skips without a PostgreSQL server (fails with CI=true).
func freshPostgres(t *testing.T) string {
	t.Helper()
	server := os.Getenv("PARLEY_TEST_POSTGRES")
	if server == "" {
		server = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL required with CI=true: %v", err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	rand.Read(b[:])
	name := "parley_test_migrate_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	// A password the output must never show (trust authentication
	// ignores it).
	u.User = url.UserPassword(u.User.Username(), "hunter2secret")
	return u.String()
}

// TestMigrateSQLiteToPostgres fills a SQLite data directory with a bit of
// everything, copies it into a fresh PostgreSQL database, and checks the
// report (equal counts and checksums), the copy itself, and that a second
// copy into the now non-empty database is refused.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	pg := freshPostgres(t)
	data := t.TempDir()
	ctx := t.Context()
	fillSite(t, ctx, filepath.Join(data, "parley.db"))

	code, out, errs := migrateCmd(t, "--from", "sqlite:"+data, "--to", pg)
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("\n%s", out)
	for _, want := range []string{
		"users                             3            3\n",
		"roster_versions                   2            2\n",
		"archive                        1210         1210\n",
		"muc_affiliations                  1            1\n",
		"verified: 3 users and 1 rooms have equal checksums\n",
		"postgres://postgres:xxxxx@127.0.0.1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out+errs, "hunter2secret") {
		t.Fatalf("output shows the password")
	}

	// The copy answers like the original.
	st, err := postgres.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.QueryArchive(ctx, "alice", store.ArchiveQuery{Text: "Cafe", Last: true, Limit: 2, Count: true})
	if err != nil || p.Count != 1200 || len(p.Messages) != 2 || p.Messages[1].ID != "a1199" {
		t.Fatalf("search in the copy: %+v, %v", p, err)
	}
	if data, err := st.PrivateXML(ctx, "alice", "storage storage:bookmarks"); err != nil || string(data) != "<storage/>" {
		t.Fatalf("private XML in the copy: %q, %v", data, err)
	}

	code, out, errs = migrateCmd(t, "--from", "sqlite:"+data, "--to", pg)
	if code != 1 || !strings.Contains(errs, "destination is not empty") {
		t.Fatalf("second migrate: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, "hunter2secret") {
		t.Fatalf("output shows the password")
	}

	// Without --from/--to: the configured store's schema version.
	code, out, errs = migrateCmd(t, "--data", data)
	if code != 0 || !strings.HasPrefix(out, "sqlite:"+data+": schema version ") {
		t.Fatalf("migrate --data: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = migrateCmd(t, "--data", data, "--store", pg)
	if code != 0 || !strings.Contains(out, ": schema version ") || strings.Contains(out, "hunter2secret") {
		t.Fatalf("migrate --store: exit %d\n%s%s", code, out, errs)
	}
}

func TestMigrateUsage(t *testing.T) {
	for i, tc := range []struct {
		args []string
		code int
		err  string
	}{
		0: {[]string{"--from", "sqlite:/x"}, 2, "go together"},
		1: {[]string{"--from", "sqlite:/x", "--to", "sqlite:/x"}, 2, "same store"},
		2: {[]string{"--from", "mysql://u:pw@h/db", "--to", "sqlite:/y"}, 2, "a store is sqlite:DIR"},
		3: {[]string{"--from", "sqlite:" + t.TempDir(), "--to", "sqlite:/y"}, 1, "no database at"},
		4: {[]string{"extra"}, 2, "takes no arguments"},
	} {
		code, _, errs := migrateCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) || strings.Contains(errs, "pw@") {
			t.Errorf("%d: %v: exit %d, stderr %q", i, tc.args, code, errs)
		}
	}
}

// fillSite creates a SQLite database with accounts, a roster, offline
// messages, a vCard, private XML, a block list, archives with search
// text and preferences, and a room with an affiliation and an archive.
func fillSite(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC)
	for _, u := range []string{"alice", "bob", "carol", "gone"} {
		k1, k256, err := scramKeys("pw-" + u)
		check(err)
		check(s.CreateUser(ctx, store.User{Username: u, SHA1: k1, SHA256: k256, Created: t0}))
	}
	_, err = s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "bob@example.net", Name: "Bob", Groups: []string{"Friends"}, Subscription: store.SubBoth})
	check(err)
	_, err = s.PutRosterItem(ctx, "gone", store.RosterItem{JID: "bob@example.net", Subscription: store.SubNone})
	check(err)
	check(s.DeleteUser(ctx, "gone"))
	check(s.StoreOffline(ctx, "bob", store.OfflineMessage{Stamp: t0, Stanza: []byte("<message><body>hi</body></message>")}))
	check(s.SetVCard(ctx, "alice", []byte("<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>")))
	check(s.SetPrivateXML(ctx, "alice", "storage storage:bookmarks", []byte("<storage/>")))
	check(s.Block(ctx, "carol", []string{"spam.example"}))
	check(s.SetArchivePrefs(ctx, "alice", store.ArchivePrefs{Default: store.ArchiveAlways, Never: []string{"eve@example.net"}}))
	const room = "lobby@conference.example.net"
	check(s.PutRoom(ctx, store.Room{JID: room, Config: []byte(`{"name":"Lobby"}`), Secret: []byte("k"), Created: t0}))
	check(s.SetRoomAffiliation(ctx, room, store.RoomAffiliation{JID: "alice@example.net", Affiliation: "owner"}))
	for _, owner := range []string{"alice", room} {
		n := 1200
		if owner == room {
			n = 10
		}
		var msgs []store.ArchivedMessage
		for i := range n {
			id := fmt.Sprintf("%c%d", owner[0], i)
			msgs = append(msgs, store.ArchivedMessage{Owner: owner, ID: id, With: "bob@example.net",
				Stamp: t0.Add(time.Duration(i) * time.Second), Stanza: []byte("<message><body>Café " + id + "</body></message>"), Text: "Café " + id})
			if len(msgs) == 1000 || i == n-1 {
				check(s.AppendArchive(ctx, msgs))
				msgs = msgs[:0]
			}
		}
	}
}
