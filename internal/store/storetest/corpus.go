package storetest

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/stanza"
	"parley/internal/store"
)

// ArchiveCorpus generates the benchmark archive both backends load: n
// messages round robin over ArchiveOwners owners, 50 contacts, bodies of
// 6-14 words drawn from a Zipf-distributed vocabulary of 2,000 words,
// stamped one second apart and ending now. The draw is seeded, so both
// backends get the same corpus (ids aside).
type ArchiveCorpus struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	stamp time.Time
	text  strings.Builder
	// IDs holds each owner's ids in archive order, as Message made them.
	IDs [][]string
}

// NewArchiveCorpus starts a corpus of n messages.
func NewArchiveCorpus(n int) *ArchiveCorpus {
	return &ArchiveCorpus{
		rng:   rand.New(rand.NewPCG(3, 4)),
		zipf:  rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 2, 1999),
		stamp: time.Now().Add(-time.Duration(n) * time.Second).Truncate(time.Microsecond),
		IDs:   make([][]string, ArchiveOwners),
	}
}

// Message is the i-th message; call it for i = 0, 1, 2, ... in order.
func (c *ArchiveCorpus) Message(i int) store.ArchivedMessage {
	o := i % ArchiveOwners
	c.text.Reset()
	for w := range 6 + c.rng.IntN(9) {
		if w > 0 {
			c.text.WriteByte(' ')
		}
		c.text.WriteString(BenchWord(int(c.zipf.Uint64())))
	}
	id := stanza.NewID() + strconv.Itoa(i) // unique even within one millisecond
	with := ArchiveContact(c.rng.IntN(50))
	body := c.text.String()
	owner := ArchiveOwner(o)
	c.IDs[o] = append(c.IDs[o], id)
	return store.ArchivedMessage{
		Owner: owner, ID: id, With: with, Stamp: c.stamp.Add(time.Duration(i) * time.Second),
		Stanza: []byte(`<message xmlns='jabber:client' from='` + with + `/phone' to='` + owner +
			`@example.net' type='chat' id='m` + strconv.Itoa(i) + `'><body>` + body +
			`</body><stanza-id xmlns='urn:xmpp:sid:0' by='` + owner + `@example.net' id='` + id + `'/></message>`),
		Text: body,
	}
}

// CreateArchiveOwners creates the corpus's owners.
func CreateArchiveOwners(b *testing.B, s store.Users) {
	for o := range ArchiveOwners {
		if err := s.CreateUser(b.Context(), user(ArchiveOwner(o))); err != nil {
			b.Fatal(err)
		}
	}
}

// AppendCorpus is a load for BenchArchive that any backend has: the
// corpus's owners created, then its messages appended batch at a time.
func AppendCorpus(b *testing.B, s store.Store, batch int) func(n int) *ArchiveCorpus {
	return func(n int) *ArchiveCorpus {
		CreateArchiveOwners(b, s)
		c := NewArchiveCorpus(n)
		msgs := make([]store.ArchivedMessage, 0, batch)
		for i := range n {
			msgs = append(msgs, c.Message(i))
			if len(msgs) == batch || i == n-1 {
				if err := s.AppendArchive(b.Context(), msgs); err != nil {
					b.Fatal(err)
				}
				msgs = msgs[:0]
			}
		}
		return c
	}
}

// BenchArchive measures the queries clients make against an archive of
// ArchiveCorpus messages (PARLEY_ARCHIVE_N, default 1,000,000), which
// load fills the fastest way the backend has and returns the corpus of:
// the last page (what a client asks at login), a page after an id in the
// middle (catching up), a page with one contact, and full-text searches
// for a rare word, a common word and two words, each with the RSM count.
// It reports p50/p99 latency per query.
func BenchArchive(b *testing.B, s store.Archives, load func(n int) *ArchiveCorpus) {
	n := 1_000_000
	if v := os.Getenv("PARLEY_ARCHIVE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("PARLEY_ARCHIVE_N: %v", err)
		}
	}
	start := time.Now()
	ids := load(n).IDs
	b.Logf("loaded %d archived messages in %v", n, time.Since(start).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(1, 2))
	owner := func() int { return rng.IntN(ArchiveOwners) }
	last := func(q store.ArchiveQuery) (string, store.ArchiveQuery) {
		q.Last, q.Limit, q.Count = true, 50, true
		return ArchiveOwner(owner()), q
	}
	queries := []struct {
		name string
		q    func() (string, store.ArchiveQuery)
	}{
		{"LastPage", func() (string, store.ArchiveQuery) { return last(store.ArchiveQuery{}) }},
		{"PageAfterID", func() (string, store.ArchiveQuery) {
			o := owner()
			return ArchiveOwner(o), store.ArchiveQuery{After: ids[o][rng.IntN(len(ids[o]))], Limit: 50, Count: true}
		}},
		{"PageWith", func() (string, store.ArchiveQuery) {
			return last(store.ArchiveQuery{With: ArchiveContact(rng.IntN(50))})
		}},
		{"FullTextRare", func() (string, store.ArchiveQuery) {
			return last(store.ArchiveQuery{Text: BenchWord(1500 + rng.IntN(400))})
		}},
		{"FullTextCommon", func() (string, store.ArchiveQuery) {
			return last(store.ArchiveQuery{Text: BenchWord(rng.IntN(5))})
		}},
		{"FullTextTwoWords", func() (string, store.ArchiveQuery) {
			return last(store.ArchiveQuery{Text: BenchWord(rng.IntN(50)) + " " + BenchWord(50+rng.IntN(200))})
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
			ReportLatency(b, lat)
			b.ReportMetric(float64(matched)/float64(len(lat)), "matches/query")
		})
	}
}
