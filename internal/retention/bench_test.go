package retention

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// benchStore is a SQLite store with n archived messages, 100 days old,
// spread over 10 accounts.
func benchStore(b *testing.B, n int) *sqlite.Store {
	b.Helper()
	ctx := context.Background()
	var users []string
	for u := range 10 {
		users = append(users, fmt.Sprintf("u%d", u))
	}
	st := newStore(b, users...)
	old := time.Now().Add(-100 * 24 * time.Hour)
	var msgs []store.ArchivedMessage
	for i := range n {
		msgs = append(msgs, store.ArchivedMessage{Owner: fmt.Sprintf("u%d", i%10), ID: strconv.Itoa(i), With: "x@example.net",
			Stamp: old.Add(time.Duration(i) * time.Millisecond), Stanza: []byte("<message><body>hello there number " + strconv.Itoa(i) + "</body></message>"),
			Text: "hello there number " + strconv.Itoa(i)})
		if len(msgs) == store.MaxAppend || i == n-1 {
			if err := st.AppendArchive(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	return st
}

func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("PARLEY_RETENTION_N")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// BenchmarkRun: one run removing every message of an archive of
// PARLEY_RETENTION_N (default 20,000) in batches of 1,000, a tenth of
// them held (one account), without pauses. Reports rows removed per
// second.
func BenchmarkRun(b *testing.B) {
	n := benchN()
	for range b.N {
		b.StopTimer()
		st := benchStore(b, n)
		if _, err := st.CreateHold(context.Background(), store.LegalHold{Name: "h", Users: []string{"u0"}}); err != nil {
			b.Fatal(err)
		}
		j := New(Options{Store: st, Batch: 1000, Pause: time.Nanosecond,
			Policy: Policy{Site: map[string]time.Duration{KindArchive: 30 * 24 * time.Hour}}})
		b.StartTimer()
		start := time.Now()
		rep, err := j.Run(context.Background())
		if err != nil || rep[KindArchive] != n-n/10 {
			b.Fatalf("Run = %v, %v", rep, err)
		}
		b.ReportMetric(float64(rep[KindArchive])/time.Since(start).Seconds(), "rows/s")
		j.Close()
	}
}

// BenchmarkDeleteUser: deleting an account with a tenth of the archive,
// with and without a hold covering it (the trigger's copy into
// archive_held).
func BenchmarkDeleteUser(b *testing.B) {
	n := benchN()
	for _, held := range []bool{false, true} {
		b.Run(fmt.Sprintf("held=%v", held), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				st := benchStore(b, n)
				if held {
					if _, err := st.CreateHold(context.Background(), store.LegalHold{Name: "h", Users: []string{"u0"}}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				if err := st.DeleteUser(context.Background(), "u0"); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(n/10)/time.Since(start).Seconds(), "rows/s")
			}
		})
	}
}
