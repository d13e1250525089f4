package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// schemaPool opens a pool on a new, empty schema.
func schemaPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return schemaPoolAt(t, newSchema(t))
}

// schemaVersion reads how many steps schema_migrations records, and checks
// that it records each exactly once and in order.
func schemaVersion(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n, highest int
	err := pool.QueryRow(t.Context(), `SELECT count(*), coalesce(max(version), 0) FROM schema_migrations`).Scan(&n, &highest)
	if err != nil {
		t.Fatal(err)
	}
	if n != highest {
		t.Fatalf("schema_migrations has %d rows up to version %d", n, highest)
	}
	return n
}

func TestMigrate(t *testing.T) {
	needDB(t)
	steps := []string{
		`CREATE TABLE a (x integer)`,
		`INSERT INTO a VALUES (1)`,
		`INSERT INTO a VALUES (2); CREATE TABLE b (y integer)`,
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
			pool := schemaPool(t)
			if err := migrate(ctx, pool, tc.first); err != nil {
				t.Fatalf("first migrate: %v", err)
			}
			err := migrate(ctx, pool, tc.then)
			if tc.wantFail {
				if err == nil {
					t.Fatal("failing step reported no error")
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("migrate: %v, want %v", err, tc.wantErr)
			}
			var rows int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM a`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if v := schemaVersion(t, pool); v != tc.wantVersion || rows != tc.wantRows {
				t.Fatalf("version %d with %d rows, want %d with %d", v, rows, tc.wantVersion, tc.wantRows)
			}
		})
	}
}

// TestOpenTwice opens a database that is already current: nothing is run
// again and the data stays.
func TestOpenTwice(t *testing.T) {
	dbURL := newSchema(t)
	ctx := t.Context()
	s := openURL(t, dbURL, Options{})
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openURL(t, dbURL, Options{})
	if _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Fatalf("GetUser after reopening: %v", err)
	}
	pool := schemaPoolAt(t, dbURL)
	if v := schemaVersion(t, pool); v != len(migrations) {
		t.Fatalf("schema version %d, want %d", v, len(migrations))
	}
}

// TestConcurrentOpen starts several nodes on one empty database at once,
// as a cluster does after a deploy: the advisory lock must let exactly one
// run each step while the others wait and then find it done. Without the
// lock they would meet "relation already exists" or a duplicate version.
func TestConcurrentOpen(t *testing.T) {
	needDB(t)
	const rounds, nodes = 5, 4
	for range rounds {
		dbURL := newSchema(t)
		var wg sync.WaitGroup
		stores := make([]*Store, nodes)
		errs := make([]error, nodes)
		for i := range nodes {
			wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dbURL) })
		}
		wg.Wait()
		for i := range nodes {
			if errs[i] != nil {
				t.Errorf("node %d: Open: %v", i, errs[i])
				continue
			}
			stores[i].Close()
		}
		if v := schemaVersion(t, schemaPoolAt(t, dbURL)); v != len(migrations) {
			t.Fatalf("schema version %d, want %d", v, len(migrations))
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dbURL := newSchema(t)
	openURL(t, dbURL, Options{}).Close()
	pool := schemaPoolAt(t, dbURL)
	if _, err := pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), dbURL); !errors.Is(err, ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	for i, u := range []string{"postgres://user:secret@[::1", "mysql://x"} {
		s, err := Open(context.Background(), u)
		if err == nil {
			s.Close()
			t.Fatalf("%d: Open(%q) succeeded", i, u)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%d: error shows the password: %v", i, err)
		}
	}
}

// schemaPoolAt opens a pool on dbURL.
func schemaPoolAt(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
