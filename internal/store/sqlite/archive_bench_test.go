package sqlite

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/store/storetest"
)

// BenchmarkArchive builds an archive of PARLEY_ARCHIVE_N messages (default
// 1,000,000: 20 users with 50,000 each, ~10 words of Zipf-distributed
// vocabulary per body) once, then measures the queries clients make:
// the last page (what a client asks at login), a page after an id in the
// middle (catching up), and full-text searches for a rare and a common
// word, each with the RSM count. It reports p50/p99 latency per query.
//
//	go test -run '^$' -bench 'Archive$' -benchtime 2000x ./internal/store/sqlite
func BenchmarkArchive(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("PARLEY_ARCHIVE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("PARLEY_ARCHIVE_N: %v", err)
		}
	}
	s := openTemp(b, Options{})
	ctx := b.Context()
	start := time.Now()
	ids := buildArchive(b, s, n)
	b.Logf("built %d archived messages in %v (%.0f msgs/s in batches of 2000)",
		n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())

	rng := rand.New(rand.NewPCG(1, 2))
	owner := func() int { return rng.IntN(storetest.ArchiveOwners) }
	queries := []struct {
		name string
		q    func() (string, store.ArchiveQuery)
	}{
		{"LastPage", func() (string, store.ArchiveQuery) {
			return storetest.ArchiveOwner(owner()), store.ArchiveQuery{Last: true, Limit: 50, Count: true}
		}},
		{"PageAfterID", func() (string, store.ArchiveQuery) {
			o := owner()
			return storetest.ArchiveOwner(o), store.ArchiveQuery{After: ids[o][rng.IntN(len(ids[o]))], Limit: 50, Count: true}
		}},
		{"PageWith", func() (string, store.ArchiveQuery) {
			return storetest.ArchiveOwner(owner()), store.ArchiveQuery{With: storetest.ArchiveContact(rng.IntN(50)), Last: true, Limit: 50, Count: true}
		}},
		{"FullTextRare", func() (string, store.ArchiveQuery) {
			return storetest.ArchiveOwner(owner()), store.ArchiveQuery{Text: storetest.BenchWord(1500 + rng.IntN(400)), Last: true, Limit: 50, Count: true}
		}},
		{"FullTextCommon", func() (string, store.ArchiveQuery) {
			return storetest.ArchiveOwner(owner()), store.ArchiveQuery{Text: storetest.BenchWord(rng.IntN(5)), Last: true, Limit: 50, Count: true}
		}},
		{"FullTextTwoWords", func() (string, store.ArchiveQuery) {
			return storetest.ArchiveOwner(owner()), store.ArchiveQuery{Text: storetest.BenchWord(rng.IntN(50)) + " " + storetest.BenchWord(50+rng.IntN(200)), Last: true, Limit: 50, Count: true}
		}},
	}
	for _, qc := range queries {
		b.Run(qc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			matched := 0
			b.ReportAllocs()
			for b.Loop() {
				o, q := qc.q()
				t0 := time.Now()
				p, err := s.QueryArchive(ctx, o, q)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				matched += p.Count
			}
			storetest.ReportLatency(b, lat)
			b.ReportMetric(float64(matched)/float64(len(lat)), "matches/query")
		})
	}
}

// buildArchive appends n messages round robin over the owners in batches
// and returns each owner's ids in archive order.
func buildArchive(b *testing.B, s *Store, n int) [][]string {
	ctx := b.Context()
	for o := range storetest.ArchiveOwners {
		if err := s.CreateUser(ctx, newUser(storetest.ArchiveOwner(o))); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 2, 1999)
	ids := make([][]string, storetest.ArchiveOwners)
	stamp := time.Now().Add(-time.Duration(n) * time.Second)
	const batch = maxAppend
	msgs := make([]store.ArchivedMessage, 0, batch)
	var text strings.Builder
	for i := range n {
		o := i % storetest.ArchiveOwners
		text.Reset()
		for w := range 6 + rng.IntN(9) {
			if w > 0 {
				text.WriteByte(' ')
			}
			text.WriteString(storetest.BenchWord(int(zipf.Uint64())))
		}
		id := stanza.NewID() + strconv.Itoa(i) // unique even within one millisecond
		with := storetest.ArchiveContact(rng.IntN(50))
		body := text.String()
		msgs = append(msgs, store.ArchivedMessage{
			Owner: storetest.ArchiveOwner(o), ID: id, With: with, Stamp: stamp.Add(time.Duration(i) * time.Second),
			Stanza: []byte(`<message xmlns='jabber:client' from='` + with + `/phone' to='` + storetest.ArchiveOwner(o) +
				`@example.net' type='chat' id='m` + strconv.Itoa(i) + `'><body>` + body +
				`</body><stanza-id xmlns='urn:xmpp:sid:0' by='` + storetest.ArchiveOwner(o) + `@example.net' id='` + id + `'/></message>`),
			Text: body,
		})
		ids[o] = append(ids[o], id)
		if len(msgs) == batch || i == n-1 {
			if err := s.AppendArchive(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	return ids
}

// BenchmarkArchiveWrite measures durable archive appends of one message
// each (what routing does per copy) from many goroutines: group commit
// shares one fsync among everything queued.
//
//	go test -run '^$' -bench ArchiveWrite -benchtime 200000x ./internal/store/sqlite
func BenchmarkArchiveWrite(b *testing.B) {
	storetest.BenchArchiveWrite(b, func(b *testing.B) (store.Store, *atomic.Int64) {
		s := openTemp(b, Options{})
		return s, &s.commits
	})
}
