package postgres

import (
	"strings"
	"testing"

	"parley/internal/store/storetest"

	"github.com/jackc/pgx/v5"
)

// BenchmarkArchive: storetest.BenchArchive over an archive loaded with
// COPY (loadArchive).
//
//	go test -run '^$' -bench 'Archive$' -benchtime 2000x ./internal/store/postgres
func BenchmarkArchive(b *testing.B) {
	s := openTest(b, Options{})
	storetest.BenchArchive(b, s, func(n int) *storetest.ArchiveCorpus { return loadArchive(b, s, n) })
}

// loadArchive fills s's archive with n messages round robin over the
// owners (storetest.ArchiveCorpus) and returns the corpus. It COPYs the rows
// into a staging table and moves them with one INSERT ... SELECT in seq
// order, with the archive's indexes dropped meanwhile and built again
// after: minutes faster than a million appends, and the words column is
// computed by the same SQL as AppendArchive's.
func loadArchive(b *testing.B, s *Store, n int) *storetest.ArchiveCorpus {
	ctx := b.Context()
	storetest.CreateArchiveOwners(b, s)
	c := storetest.NewArchiveCorpus(n)
	i := 0
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		m := c.Message(i)
		row := []any{int64(i), m.Owner, m.ID, m.With, m.Stamp, m.Stanza, m.Text, indexWords(m.Owner, m.Text)}
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
	return c
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
	storetest.BenchArchiveWrite(b, openBench)
}
