package sqlite

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// openTemp opens a new store in the test's temporary directory and closes
// it when the test ends (Close is idempotent, so the suite may close it
// first).
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(context.Background(), filepath.Join(t.TempDir(), "parley.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openStore opens a new store with the default options (openTemp): the
// open of every storetest suite.
func openStore(t *testing.T) store.Store { return openTemp(t, Options{}) }

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore)
}

func TestArchiveConformance(t *testing.T) {
	storetest.Archive.Run(t, openStore)
}

func TestArchiveSearchConformance(t *testing.T) {
	storetest.ArchiveSearch.Run(t, openStore)
}

func TestAuditConformance(t *testing.T) {
	storetest.Audit.Run(t, openStore)
}

func TestDigestAddressesConformance(t *testing.T) {
	storetest.DigestAddresses.Run(t, openStore)
}

func TestTransfersConformance(t *testing.T) {
	storetest.Transfers.Run(t, openStore)
}

func TestFastConformance(t *testing.T) {
	storetest.Fast.Run(t, openStore)
}

func TestHoldsConformance(t *testing.T) {
	storetest.Holds.Run(t, openStore)
}

func TestIncidents(t *testing.T) {
	storetest.Incidents.Run(t, openStore)
}

func TestPEPConformance(t *testing.T) {
	storetest.PEP.Run(t, openStore)
}

func TestPubSubConformance(t *testing.T) {
	storetest.PubSub.Run(t, openStore)
}

func TestPushConformance(t *testing.T) {
	storetest.Push.Run(t, openStore)
}

func TestAbuseReportsConformance(t *testing.T) {
	storetest.AbuseReports.Run(t, openStore)
}

func TestRoomsConformance(t *testing.T) {
	storetest.Rooms.Run(t, openStore)
}

func TestStrangerFiltersConformance(t *testing.T) {
	storetest.StrangerFilters.Run(t, openStore)
}

func TestTokensConformance(t *testing.T) {
	storetest.Tokens.Run(t, openStore)
}

func TestUploadsConformance(t *testing.T) {
	storetest.Uploads.Run(t, openStore)
}

func TestWebhookDeadLettersConformance(t *testing.T) {
	storetest.WebhookDeadLetters.Run(t, openStore)
}

// openBench opens a store for storetest's write benchmarks, with its
// commit counter.
func openBench(b *testing.B) (store.Store, *atomic.Int64) {
	s := openTemp(b, Options{})
	return s, &s.commits
}

// go test -run '^$' -bench Store/StoreOffline ./internal/store/sqlite
func BenchmarkStore(b *testing.B) {
	storetest.BenchStore(b, openBench)
}
