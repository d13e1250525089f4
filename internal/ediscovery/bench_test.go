package ediscovery

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/store/storetest"
)

// benchCorpus loads n 1:1 messages among 20 users (both parties archive
// each, so 2n rows), every 50th with the word "merger".
func benchCorpus(b *testing.B, n int) (*sqlite.Store, string) {
	b.Helper()
	st, data := openStore(b)
	ctx := b.Context()
	for i := range 20 {
		must(b, st.CreateUser(ctx, store.User{Username: "u" + strconv.Itoa(i), Created: t0}))
	}
	var batch []store.ArchivedMessage
	for i := range n {
		from, to := "u"+strconv.Itoa(i%20), "u"+strconv.Itoa((i*7+3)%20)
		if from == to {
			to = "u" + strconv.Itoa((i+1)%20)
		}
		body := fmt.Sprintf("message %d about the weather", i)
		if i%50 == 0 {
			body = fmt.Sprintf("message %d about the merger", i)
		}
		at := t0.Add(time.Duration(i) * time.Second)
		raw := func(by string) []byte {
			return []byte(fmt.Sprintf(`<message xmlns='jabber:client' from='%s@example.com/r' to='%s@example.com' type='chat' id='b%d'><body>%s</body><stanza-id xmlns='urn:xmpp:sid:0' id='%s-%d' by='%s@example.com'/></message>`,
				from, to, i, body, by, i, by))
		}
		batch = append(batch,
			store.ArchivedMessage{Owner: from, ID: from + "-" + strconv.Itoa(i), With: to + "@example.com", Stamp: at, Stanza: raw(from), Text: body},
			store.ArchivedMessage{Owner: to, ID: to + "-" + strconv.Itoa(i), With: from + "@example.com", Stamp: at, Stanza: raw(to), Text: body})
		if len(batch) >= 1000 {
			must(b, st.AppendArchive(ctx, batch))
			batch = nil
		}
	}
	if len(batch) > 0 {
		must(b, st.AppendArchive(ctx, batch))
	}
	return st, data
}

// BenchmarkSearch: pages of 100 through every archive (each message
// looked up in the other party's archive for its copy), and a word
// search across all archives. PARLEY_EDISCOVERY_N sets the messages
// (default 10,000, so 20,000 archive rows).
func BenchmarkSearch(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_EDISCOVERY_N")); err == nil {
		n = v
	}
	st, data := benchCorpus(b, n)
	s := New(Options{Store: st, Domain: domain, Dir: data})
	for _, q := range []struct {
		name string
		q    Query
	}{{"AllPages", Query{}}, {"Word", Query{Words: "merger"}}, {"Participant", Query{Participants: []string{"u3@example.com"}}}} {
		b.Run(q.name, func(b *testing.B) {
			found := 0
			cpu := storetest.ProcessCPU()
			for b.Loop() {
				found = 0
				cursor := ""
				for {
					p, err := s.Search(b.Context(), q.q, cursor, 100, "bench")
					must(b, err)
					found += len(p.Messages)
					if cursor = p.Next; cursor == "" {
						break
					}
				}
			}
			b.ReportMetric(float64(found), "messages")
			b.ReportMetric(float64(found)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(found*b.N), "cpu-µs/msg")
		})
	}
}

// BenchmarkExport: a whole export (search, parts, zip, EML, manifest).
func BenchmarkExport(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_EDISCOVERY_N")); err == nil {
		n = v
	}
	st, data := benchCorpus(b, n)
	key, err := audit.LoadOrCreateKey(data)
	must(b, err)
	s := New(Options{Store: st, Domain: domain, Dir: filepath.Join(data, "ediscovery"), Key: key})
	b.Cleanup(s.Close)
	var size int64
	cpu := storetest.ProcessCPU()
	for b.Loop() {
		j, err := s.Export(b.Context(), Query{}, "bench")
		must(b, err)
		for j.Status == StatusRunning {
			time.Sleep(time.Millisecond)
			if j, err = s.Job(j.ID); err != nil {
				b.Fatal(err)
			}
		}
		if j.Status != StatusDone || j.Progress.Messages != n {
			b.Fatalf("job %+v", j)
		}
		fi, err := os.Stat(j.File)
		must(b, err)
		size = fi.Size()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(size), "zip-bytes")
	b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(n*b.N), "cpu-µs/msg")
}
