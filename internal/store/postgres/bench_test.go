package postgres

import (
	"fmt"
	"sync/atomic"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// BenchmarkStoreOffline measures durable offline-message writes: serially
// (each call waits for its own commit and WAL flush) and from many
// goroutines at once, where group commit shares one statement and one
// flush among everything queued. cpu-ns/op is this process only; the
// PostgreSQL server's CPU is not in it.
func BenchmarkStoreOffline(b *testing.B) {
	stanza := []byte(`<message to="alice@example.net" from="bob@example.net/phone" type="chat" id="x1"><body>Hello, this is a typical short chat message.</body></message>`)
	for _, par := range []int{0, 4, 32} {
		name := "Serial"
		if par > 0 {
			name = fmt.Sprintf("Parallel%dxGOMAXPROCS", par)
		}
		b.Run(name, func(b *testing.B) {
			s := openTest(b, Options{})
			ctx := b.Context()
			for i := range 16 {
				if err := s.CreateUser(ctx, newUser(fmt.Sprint("u", i))); err != nil {
					b.Fatal(err)
				}
			}
			start := s.commits.Load()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := storetest.ProcessCPU()
			if par == 0 {
				for b.Loop() {
					if err := s.StoreOffline(ctx, "u0", store.OfflineMessage{Stanza: stanza}); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				var next atomic.Int64
				b.SetParallelism(par)
				b.RunParallel(func(pb *testing.PB) {
					user := fmt.Sprint("u", next.Add(1)%16)
					for pb.Next() {
						if err := s.StoreOffline(ctx, user, store.OfflineMessage{Stanza: stanza}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			storetest.ReportCPU(b, cpu)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if c := s.commits.Load() - start; c > 0 {
				b.ReportMetric(float64(b.N)/float64(c), "msgs/commit")
			}
		})
	}
}

// BenchmarkRoster reads a 100-item roster from parallel readers, as
// logins and roster gets do.
func BenchmarkRoster(b *testing.B) {
	s := openTest(b, Options{})
	ctx := b.Context()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		it := store.RosterItem{JID: fmt.Sprintf("contact%03d@example.net", i), Name: fmt.Sprint("Contact ", i),
			Groups: []string{"Friends", "Work"}, Subscription: store.SubBoth}
		if _, err := s.PutRosterItem(ctx, "alice", it); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := storetest.ProcessCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			items, v, err := s.Roster(ctx, "alice")
			if err != nil || len(items) != 100 || v != 100 {
				b.Errorf("Roster = %d items, version %d, %v", len(items), v, err)
				return
			}
		}
	})
	storetest.ReportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rosters/s")
}
