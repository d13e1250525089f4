package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/storetest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultServer is where tests look for PostgreSQL unless
// PARLEY_TEST_POSTGRES names another server (as a postgres:// URL of a
// database the test may connect to in order to create its own).
const defaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// testDB is the database this test binary created for itself: a fresh
// one per run, dropped when the run ends. Each store a test opens lives in
// a schema of its own inside it (see openTest), which is far cheaper than
// a database per test and just as isolated.
var testDB struct {
	url     string        // of the run's database
	admin   *pgxpool.Pool // on the run's database, for creating schemas
	err     error         // why there is none
	schemas atomic.Int64  // schemas created so far
}

func TestMain(m *testing.M) {
	if dbURL := os.Getenv(childEnv); dbURL != "" {
		childWriter(dbURL) // runs until killed
		return
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	drop, err := createTestDB(ctx)
	if err != nil {
		testDB.err = err
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "postgres: %v (CI=true: PostgreSQL is required)\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "postgres: skipping tests that need PostgreSQL: %v\n", err)
		return m.Run()
	}
	code := m.Run()
	if err := drop(); err != nil {
		fmt.Fprintf(os.Stderr, "postgres: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// createTestDB creates parley_test_<random> on the server and returns a
// function that drops it. The database gets an ICU English collation on
// purpose: under the server's usual C.UTF-8 a schema that forgot
// COLLATE "C" would still sort in byte order and no test would notice.
func createTestDB(ctx context.Context) (drop func() error, err error) {
	server := os.Getenv("PARLEY_TEST_POSTGRES")
	if server == "" {
		server = defaultServer
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("PARLEY_TEST_POSTGRES must be a postgres:// URL")
	}
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s unreachable: %w", u.Redacted(), err)
	}
	defer conn.Close(context.Background())

	var b [6]byte
	rand.Read(b[:])
	name := "parley_test_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{name}.Sanitize()
	_, err = conn.Exec(ctx, `CREATE DATABASE `+ident+
		` TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C.UTF-8'`)
	if err != nil {
		// A server without ICU: any UTF-8 database will do.
		_, err = conn.Exec(ctx, `CREATE DATABASE `+ident+` TEMPLATE template0 ENCODING 'UTF8'`)
	}
	if err != nil {
		return nil, fmt.Errorf("create test database: %w", err)
	}
	dropDB := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if testDB.admin != nil {
			testDB.admin.Close()
		}
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return fmt.Errorf("drop test database %s: %w", name, err)
		}
		defer conn.Close(ctx)
		// FORCE: a test that failed may have left a store open.
		if _, err := conn.Exec(ctx, `DROP DATABASE `+ident+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop test database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	testDB.url = u.String()
	testDB.admin, err = pgxpool.New(ctx, testDB.url)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connect to test database: %w", err), dropDB())
	}
	return dropDB, nil
}

// needDB skips the test when there is no PostgreSQL to test against
// (TestMain has already failed the run if CI=true).
func needDB(t testing.TB) {
	t.Helper()
	if testDB.err != nil {
		t.Skipf("no PostgreSQL: %v", testDB.err)
	}
}

// newSchema creates an empty schema in the run's database and returns a
// connection URL whose search_path puts parley's tables there.
func newSchema(t testing.TB) string {
	t.Helper()
	needDB(t)
	name := fmt.Sprintf("t%d", testDB.schemas.Add(1))
	if _, err := testDB.admin.Exec(context.Background(), `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(testDB.url)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// openTest opens a store in a new, empty schema and closes it when the
// test ends (Close is idempotent, so the suite may close it first).
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openURL(t, newSchema(t), opts)
}

// openStore opens a store in a new, empty schema with the default
// options (openTest): the open of every storetest suite.
func openStore(t *testing.T) store.Store { return openTest(t, Options{}) }

// openBench opens a store for storetest's write benchmarks, with its
// commit counter.
func openBench(b *testing.B) (store.Store, *atomic.Int64) {
	s := openTest(b, Options{})
	return s, &s.commits
}

// openURL opens a store at dbURL and closes it when the test ends.
func openURL(t testing.TB, dbURL string, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(context.Background(), dbURL, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newUser(name string) store.User {
	k := store.ScramKeys{Salt: []byte("s"), Iterations: 4096, StoredKey: []byte("k"), ServerKey: []byte("v")}
	return store.User{Username: name, SHA1: k, SHA256: k}
}

// withUsers creates the accounts (newUser) in s and returns s.
func withUsers(t testing.TB, s *Store, usernames ...string) *Store {
	t.Helper()
	for _, u := range usernames {
		if err := s.CreateUser(t.Context(), newUser(u)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	needDB(t)
	storetest.Run(t, openStore)
}

func TestArchiveConformance(t *testing.T) {
	needDB(t)
	storetest.Archive.Run(t, openStore)
}

func TestArchiveSearchConformance(t *testing.T) {
	needDB(t)
	storetest.ArchiveSearch.Run(t, openStore)
}

func TestRoomsConformance(t *testing.T) {
	needDB(t)
	storetest.Rooms.Run(t, openStore)
}

func TestPEPConformance(t *testing.T) {
	needDB(t)
	storetest.PEP.Run(t, openStore)
}

func TestTransfersConformance(t *testing.T) {
	needDB(t)
	storetest.Transfers.Run(t, openStore)
}

func TestAuditConformance(t *testing.T) {
	needDB(t)
	storetest.Audit.Run(t, openStore)
}

func TestDigestAddressesConformance(t *testing.T) {
	needDB(t)
	storetest.DigestAddresses.Run(t, openStore)
}

func TestFastConformance(t *testing.T) {
	needDB(t)
	storetest.Fast.Run(t, openStore)
}

func TestHoldsConformance(t *testing.T) {
	needDB(t)
	storetest.Holds.Run(t, openStore)
}

func TestIncidents(t *testing.T) {
	needDB(t)
	storetest.Incidents.Run(t, openStore)
}

func TestPubSubConformance(t *testing.T) {
	needDB(t)
	storetest.PubSub.Run(t, openStore)
}

func TestPushConformance(t *testing.T) {
	needDB(t)
	storetest.Push.Run(t, openStore)
}

func TestAbuseReportsConformance(t *testing.T) {
	needDB(t)
	storetest.AbuseReports.Run(t, openStore)
}

func TestStrangerFiltersConformance(t *testing.T) {
	needDB(t)
	storetest.StrangerFilters.Run(t, openStore)
}

func TestTokensConformance(t *testing.T) {
	needDB(t)
	storetest.Tokens.Run(t, openStore)
}

func TestUploadsConformance(t *testing.T) {
	needDB(t)
	storetest.Uploads.Run(t, openStore)
}

func TestWebhookDeadLettersConformance(t *testing.T) {
	needDB(t)
	storetest.WebhookDeadLetters.Run(t, openStore)
}

// go test -run '^$' -bench Store/StoreOffline ./internal/store/postgres
func BenchmarkStore(b *testing.B) {
	storetest.BenchStore(b, openBench)
}
