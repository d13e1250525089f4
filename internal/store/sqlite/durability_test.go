package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// TestReopen writes one of everything, closes, opens the file again and
// reads it all back.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := newUser("alice")
	u.Created = time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	item := store.RosterItem{JID: "bob@example.net", Groups: []string{"g"}, Subscription: store.SubTo, PendingInStanza: []byte("<presence/>")}
	steps := []error{
		s.CreateUser(ctx, u),
		s.StoreOffline(ctx, "alice", store.OfflineMessage{Stamp: u.Created, Stanza: []byte("<message/>")}),
		s.SetVCard(ctx, "alice", []byte("<vCard/>")),
		s.SetPrivateXML(ctx, "alice", "k ns", []byte("<k/>")),
		s.Block(ctx, "alice", []string{"eve@example.net"}),
	}
	_, err = s.PutRosterItem(ctx, "alice", item)
	if err := errors.Join(append(steps, err)...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetUser(ctx, "alice")
	if err != nil || !got.Created.Equal(u.Created) || got.SHA256.Iterations != 4096 {
		t.Errorf("GetUser = %+v, %v", got, err)
	}
	items, version, err := s.Roster(ctx, "alice")
	if err != nil || version != 1 || len(items) != 1 || items[0].JID != item.JID || string(items[0].PendingInStanza) != "<presence/>" {
		t.Errorf("Roster = %+v, %d, %v", items, version, err)
	}
	msgs, err := s.OfflineMessages(ctx, "alice")
	if err != nil || len(msgs) != 1 || string(msgs[0].Stanza) != "<message/>" || !msgs[0].Stamp.Equal(u.Created) {
		t.Errorf("OfflineMessages = %+v, %v", msgs, err)
	}
	if v, err := s.VCard(ctx, "alice"); err != nil || string(v) != "<vCard/>" {
		t.Errorf("VCard = %s, %v", v, err)
	}
	if v, err := s.PrivateXML(ctx, "alice", "k ns"); err != nil || string(v) != "<k/>" {
		t.Errorf("PrivateXML = %s, %v", v, err)
	}
	if l, err := s.Blocklist(ctx, "alice"); err != nil || len(l) != 1 {
		t.Errorf("Blocklist = %q, %v", l, err)
	}
	// A new roster change continues the old count.
	if v, err := s.PutRosterItem(ctx, "alice", item); err != nil || v != 2 {
		t.Errorf("PutRosterItem after reopen = %d, %v; want 2", v, err)
	}
}

// TestOpenPathWithURICharacters guards the file: URI escaping: a '?' or
// '#' in the path must not be taken for the start of the query.
func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c d%20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "parley.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(t.Context(), newUser("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
}

func TestMigrate(t *testing.T) {
	steps := []string{
		`CREATE TABLE a (x INTEGER)`,
		`INSERT INTO a VALUES (1)`,
		`INSERT INTO a VALUES (2); CREATE TABLE b (y INTEGER)`,
	}
	tests := []struct {
		first, then []string // migrate with first, then with then
		wantErr     error    // of the second migrate
		wantFail    bool     // the second migrate fails with a SQL error
		wantVersion int
		wantRows    int // in table a
	}{
		0: {nil, steps, nil, false, 3, 2},
		1: {steps[:1], steps, nil, false, 3, 2},
		2: {steps[:2], steps, nil, false, 3, 2}, // step 2 is not run twice
		3: {steps, steps, nil, false, 3, 2},
		4: {steps, steps[:2], ErrSchemaTooNew, false, 3, 2},
		// A failing step is undone whole, including its first statement,
		// and leaves the version at the last good step.
		5: {steps[:2], append(steps[:2:2], `INSERT INTO a VALUES (3); SELECT * FROM missing`), nil, true, 2, 1},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			ctx := t.Context()
			db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := migrate(ctx, db, tc.first); err != nil {
				t.Fatalf("first migrate: %v", err)
			}
			err = migrate(ctx, db, tc.then)
			if tc.wantFail {
				if err == nil {
					t.Fatal("failing step reported no error")
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("migrate: %v, want %v", err, tc.wantErr)
			}
			var version, rows int
			if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM a").Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if version != tc.wantVersion || rows != tc.wantRows {
				t.Fatalf("version %d with %d rows, want %d with %d", version, rows, tc.wantVersion, tc.wantRows)
			}
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1))
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), path); !errors.Is(err, ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
}

// TestKilledProcessKeepsAcknowledgedWrites: see storetest.KillWriter.
func TestKilledProcessKeepsAcknowledgedWrites(t *testing.T) {
	if path := os.Getenv("PARLEY_SQLITE_CHILD"); path != "" {
		s, err := Open(context.Background(), path)
		if err == nil {
			err = s.CreateUser(context.Background(), newUser("alice"))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		storetest.ChildWriter(s)
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledProcessKeepsAcknowledgedWrites$")
	cmd.Env = append(os.Environ(), "PARLEY_SQLITE_CHILD="+path)
	acked := storetest.KillWriter(t, cmd)
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckAcked(t, s, "alice", acked)
}
