package muc

import (
	"context"
	"strconv"
	"testing"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// BenchmarkFanout500 is one groupchat message to a 500-occupant room:
// the room serialises it once and each occupant's copy differs only by a
// spliced 'to'. Sessions are fakes on a real router that count bytes.
// The router's per-recipient work (inbound interceptors, its own
// stanza-id for the recipient) is included.
func BenchmarkFanout500(b *testing.B) { fanout(b, 500) }

// BenchmarkFanout100 is BenchmarkFanout500 in a 100-occupant room, whose
// setup (every join is O(occupants)) is cheap enough to run under
// callgrind: instructions per delivery are the difference between two
// -test.benchtime counts divided by the deliveries (docs/BENCHMARKS.md).
func BenchmarkFanout100(b *testing.B) { fanout(b, 100) }

func fanout(b *testing.B, n int) {
	h := newHarness(b, func(o *Options) { o.HistorySize = -1 })
	h.create("u0@example.com/r", "big", "u0")
	for i := 1; i < n; i++ {
		h.join("u"+strconv.Itoa(i)+"@example.com/r", "big", "u"+strconv.Itoa(i))
	}
	for _, s := range h.users {
		s.take()
		s.Discard(true)
		s.Sent() // counts from here
	}
	raw := []byte("<message type='groupchat' to='big@" + service + "' id='x'><body>The quick brown fox jumps over the lazy dog</body></message>")
	sender := h.users["u0@example.com/r"].JID()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		// c2s parses each message once; so does the benchmark.
		el, err := xmlstream.ParseIn(raw, xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			b.Fatal(err)
		}
		st, _ := stanza.Parse(el)
		st.SetFrom(sender)
		h.r.Route(ctx, st)
	}
	b.StopTimer()
	got := 0
	for _, s := range h.users {
		got += s.Sent()
	}
	if got != n*b.N {
		b.Fatalf("delivered %d stanzas, want %d", got, n*b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/delivery")
}

// BenchmarkDiscoItems5000 is one disco#items page of a service with 5,000
// stored public rooms (issue 10: 5,000 rooms were all in one reply): the
// cost of listing, sorting and paging per request.
func BenchmarkDiscoItems5000(b *testing.B) {
	const n = 5000
	h := newHarness(b)
	ctx := context.Background()
	owner := jid.MustParse("crone@example.com")
	for i := range n {
		room := jid.MustParse("r" + strconv.Itoa(i) + "@" + service)
		if err := CreateRoom(ctx, h.st, room, owner, DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
	full := "wiz@example.com/x"
	raw := "<iq type='get' id='d' to='" + service + "'><query xmlns='" + NSDiscoItems + "'/></iq>"
	if got := find(h.recv(full, raw), isIQ("d")); got == nil || len(got.Child("query", NSDiscoItems).Children) != roomPage+1 {
		b.Fatalf("first page: %v", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		h.recv(full, raw)
	}
}
