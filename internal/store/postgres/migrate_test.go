package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"

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

// TestMigrate: see storetest.Migrate.
func TestMigrate(t *testing.T) {
	needDB(t)
	storetest.Migrate(t, store.ErrSchemaTooNew, func(t *testing.T) (func([]string) error, func() (int, int)) {
		pool := schemaPool(t)
		return func(steps []string) error { return migrate(t.Context(), pool, steps) },
			func() (int, int) {
				var rows int
				if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM a`).Scan(&rows); err != nil {
					t.Fatal(err)
				}
				return schemaVersion(t, pool), rows
			}
	})
}

// TestOpenTwice opens a database that is already current: nothing is run
// again and the data stays.
func TestOpenTwice(t *testing.T) {
	dbURL := newSchema(t)
	ctx := t.Context()
	s := withUsers(t, openURL(t, dbURL, Options{}), "alice")
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
	s, err := Open(t.Context(), dbURL)
	storetest.SchemaTooNew(t, s, err)
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
