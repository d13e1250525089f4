package postgres

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

	"github.com/jackc/pgx/v5"
)

// BenchmarkArchive builds an archive of PARLEY_ARCHIVE_N messages (default
// 1,000,000: 20 users with 50,000 each, ~10 words of Zipf-distributed
// vocabulary per body, the same corpus as the SQLite benchmark) once,
// loaded with COPY, then measures the queries clients make: the last page
// (what a client asks at login), a page after an id in the middle
// (catching up), a page with one contact, and full-text searches for a
// rare word, a common word and two words, each with the RSM count. It
// reports p50/p99 latency per query.
//
//	go test -run '^$' -bench 'Archive$' -benchtime 2000x ./internal/store/postgres
func BenchmarkArchive(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("PARLEY_ARCHIVE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("PARLEY_ARCHIVE_N: %v", err)
		}
	}
	s := openTest(b, Options{})
	start := time.Now()
	ids := loadArchive(b, s, n)
	b.Logf("loaded %d archived messages in %v (COPY, index build, VACUUM ANALYZE)", n, time.Since(start).Round(time.Millisecond))

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
				p, err := s.QueryArchive(b.Context(), o, q)
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

// loadArchive fills s's archive with n messages round robin over the
// owners and returns each owner's ids in archive order. It COPYs the rows
// into a staging table and moves them with one INSERT ... SELECT in seq
// order, with the archive's indexes dropped meanwhile and built again
// after: minutes faster than a million appends, and the words column is
// computed by the same SQL as AppendArchive's.
func loadArchive(b *testing.B, s *Store, n int) [][]string {
	ctx := b.Context()
	for o := range storetest.ArchiveOwners {
		if err := s.CreateUser(ctx, newUser(storetest.ArchiveOwner(o))); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 2, 1999)
	ids := make([][]string, storetest.ArchiveOwners)
	stamp := time.Now().Add(-time.Duration(n) * time.Second).Truncate(time.Microsecond)
	var text strings.Builder
	i := 0
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		o := i % storetest.ArchiveOwners
		text.Reset()
		for w := range 6 + rng.IntN(9) {
			if w > 0 {
				text.WriteByte(' ')
			}
			text.WriteString(storetest.BenchWord(int(zipf.Uint64())))
		}
		id := stanza.NewID() + strconv.Itoa(i)
		with := storetest.ArchiveContact(rng.IntN(50))
		body := text.String()
		owner := storetest.ArchiveOwner(o)
		row := []any{int64(i), owner, id, with, stamp.Add(time.Duration(i) * time.Second),
			[]byte(`<message xmlns='jabber:client' from='` + with + `/phone' to='` + owner +
				`@example.net' type='chat' id='m` + strconv.Itoa(i) + `'><body>` + body +
				`</body><stanza-id xmlns='urn:xmpp:sid:0' by='` + owner + `@example.net' id='` + id + `'/></message>`),
			body, indexWords(owner, body)}
		ids[o] = append(ids[o], id)
		i++
		return row, nil
	})
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	exec := func(sql string) {
		b.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE UNLOGGED TABLE archive_load (n bigint, owner text, id text, with_jid text,
		stamp timestamptz, stanza bytea, body text, words text)`)
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"archive_load"},
		[]string{"n", "owner", "id", "with_jid", "stamp", "stanza", "body", "words"}, rows); err != nil {
		b.Fatal(err)
	}
	exec(`DROP INDEX archive_owner_id, archive_owner_seq, archive_owner_with, archive_owner_stamp, archive_words,
		archive_search, archive_search_long`)
	exec(`SET maintenance_work_mem = '512MB'`)
	exec(`INSERT INTO archive (owner, id, with_jid, stamp, stanza, body, words)
		SELECT owner, id, with_jid, stamp, stanza, body, array_to_tsvector(string_to_array(words, ' '))
		FROM archive_load ORDER BY n`)
	exec(`DROP TABLE archive_load`)
	for _, ddl := range strings.Split(archiveIndexes, ";") {
		if strings.TrimSpace(ddl) != "" {
			exec(ddl)
		}
	}
	exec(`VACUUM ANALYZE archive`)
	return ids
}

// archiveIndexes are the archive's indexes as archiveSchema and
// archiveSearchSchema create them.
var archiveIndexes = func() string {
	var out []string
	for _, line := range strings.Split(archiveSchema, "\n") {
		if strings.HasPrefix(line, "CREATE UNIQUE INDEX archive") || strings.HasPrefix(line, "CREATE INDEX archive") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n" + archiveSearchSchema
}()

// BenchmarkArchiveWrite measures durable archive appends of one message
// each (what routing does per copy) from many goroutines: group commit
// shares one statement and one WAL flush among everything queued.
// cpu-ns/op is this process only, not the PostgreSQL server's.
//
//	go test -run '^$' -bench ArchiveWrite -benchtime 100000x ./internal/store/postgres
func BenchmarkArchiveWrite(b *testing.B) {
	storetest.BenchArchiveWrite(b, func(b *testing.B) (store.Store, *atomic.Int64) {
		s := openTest(b, Options{})
		return s, &s.commits
	})
}
