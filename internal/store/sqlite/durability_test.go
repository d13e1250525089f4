package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// TestReopen: see storetest.Reopen.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	open := func() store.Store {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Reopen(t, open(), open)
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

// TestMigrate: see storetest.Migrate.
func TestMigrate(t *testing.T) {
	storetest.Migrate(t, store.ErrSchemaTooNew, func(t *testing.T) (func([]string) error, func() (int, int)) {
		db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return func(steps []string) error { return migrate(t.Context(), db, steps) },
			func() (int, int) {
				var version, rows int
				if err := db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&version); err != nil {
					t.Fatal(err)
				}
				if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM a").Scan(&rows); err != nil {
					t.Fatal(err)
				}
				return version, rows
			}
	})
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
	s, err := Open(t.Context(), path)
	storetest.SchemaTooNew(t, s, err)
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
