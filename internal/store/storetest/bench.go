package storetest

import (
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/stanza"
	"parley/internal/store"
)

// The synthetic archive corpus both backends' benchmarks share, so that
// their figures compare: ArchiveOwners users, contacts and a vocabulary of
// words drawn by rank.
const ArchiveOwners = 20

// ArchiveOwner is the i-th owner of the benchmark archive.
func ArchiveOwner(i int) string { return "user" + strconv.Itoa(i) }

// ArchiveContact is the i-th contact of the benchmark archive.
func ArchiveContact(i int) string { return "contact" + strconv.Itoa(i) + "@example.org" }

// BenchWord is the i-th word of the synthetic vocabulary (rank 0 is the
// most frequent under the benchmarks' Zipf draw).
func BenchWord(i int) string { return "w" + strconv.Itoa(i) + "x" }

// ReportLatency reports the median and 99th percentile in milliseconds.
func ReportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// ReportCPU reports this process's CPU time per operation since start (a
// ProcessCPU reading): wall time on a shared two-core machine says more
// about the neighbours than about the store.
func ReportCPU(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric(float64(ProcessCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchArchiveWrite measures durable archive appends of one message each
// (what routing does per copy) from many goroutines, so that group commit
// shares each commit among everything queued. open returns a fresh store
// and its commit counter; the sub-benchmarks report msgs/s and
// msgs/commit.
func BenchArchiveWrite(b *testing.B, open func(*testing.B) (store.Store, *atomic.Int64)) {
	for _, par := range []int{1, 32, 128} {
		b.Run(fmt.Sprintf("Parallel%dxGOMAXPROCS", par), func(b *testing.B) {
			s, commits := open(b)
			ctx := b.Context()
			CreateArchiveOwners(b, s)
			body := "Hello, this is a typical short chat message about lunch tomorrow."
			var next atomic.Int64
			b.SetParallelism(par)
			written := startWrites(b, commits)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					o := ArchiveOwner(int(i % ArchiveOwners))
					id := stanza.NewID() + strconv.FormatInt(i, 10)
					m := store.ArchivedMessage{Owner: o, ID: id, With: "bob@example.net",
						Stanza: []byte(`<message xmlns='jabber:client' from='bob@example.net/phone' to='` + o +
							`@example.net' type='chat'><body>` + body + `</body></message>`), Text: body}
					if err := s.AppendArchive(ctx, []store.ArchivedMessage{m}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			written()
		})
	}
}

// startWrites resets b's timer for a write benchmark on a store whose
// commits are counted by commits; the function it returns stops the timer
// and reports this process's CPU per write, msgs/s and msgs/commit.
func startWrites(b *testing.B, commits *atomic.Int64) func() {
	start := commits.Load()
	b.ReportAllocs()
	cpu := ProcessCPU()
	b.ResetTimer()
	return func() {
		b.StopTimer()
		ReportCPU(b, cpu)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		if c := commits.Load() - start; c > 0 {
			b.ReportMetric(float64(b.N)/float64(c), "msgs/commit")
		}
	}
}

// BenchStore runs the store benchmarks that are not about the archive
// (StoreOffline, Roster) as sub-benchmarks, so that a backend binds them
// with one function: go test -run '^$' -bench Store/StoreOffline.
// open returns a fresh store and its commit counter.
func BenchStore(b *testing.B, open func(*testing.B) (store.Store, *atomic.Int64)) {
	b.Run("StoreOffline", func(b *testing.B) { BenchStoreOffline(b, open) })
	b.Run("Roster", func(b *testing.B) {
		s, _ := open(b)
		BenchRoster(b, s)
	})
}

// BenchStoreOffline measures durable offline-message writes: serially
// (each call waits for its own commit and flush) and from many goroutines
// at once, where group commit shares one commit among everything queued.
// open returns a fresh store and its commit counter. cpu-ns/op is this
// process only (a PostgreSQL server's CPU is not in it).
func BenchStoreOffline(b *testing.B, open func(*testing.B) (store.Store, *atomic.Int64)) {
	stanza := []byte(`<message to="alice@example.net" from="bob@example.net/phone" type="chat" id="x1"><body>Hello, this is a typical short chat message.</body></message>`)
	for _, par := range []int{0, 4, 32} {
		name := "Serial"
		if par > 0 {
			name = fmt.Sprintf("Parallel%dxGOMAXPROCS", par)
		}
		b.Run(name, func(b *testing.B) {
			s, commits := open(b)
			ctx := b.Context()
			for i := range 16 {
				if err := s.CreateUser(ctx, user(fmt.Sprint("u", i))); err != nil {
					b.Fatal(err)
				}
			}
			written := startWrites(b, commits)
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
					u := fmt.Sprint("u", next.Add(1)%16)
					for pb.Next() {
						if err := s.StoreOffline(ctx, u, store.OfflineMessage{Stanza: stanza}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			written()
		})
	}
}

// BenchRoster reads a 100-item roster from parallel readers, as logins
// and roster gets do, from a fresh store s.
func BenchRoster(b *testing.B, s store.Store) {
	ctx := b.Context()
	if err := s.CreateUser(ctx, user("alice")); err != nil {
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
	cpu := ProcessCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			items, v, err := s.Roster(ctx, "alice")
			if err != nil || len(items) != 100 || v != 100 {
				b.Errorf("Roster = %d items, version %d, %v", len(items), v, err)
				return
			}
		}
	})
	ReportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rosters/s")
}
