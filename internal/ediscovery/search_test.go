package ediscovery

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/store"
)

func ids(msgs []Message) []string {
	out := []string{}
	for _, m := range msgs {
		out = append(out, m.Archive+"/"+m.ID)
	}
	return out
}

// TestSearch: every case is a search of the corpus and the messages it
// must report, each once: a 1:1 message both parties archived is the
// sender's copy with the recipient's among its copies.
func TestSearch(t *testing.T) {
	f := newFixture(t)
	f.corpus(t)
	s := f.service(t, Options{})
	const room = "ops@conference.example.com"
	tests := []struct {
		q    Query
		want []string
	}{
		0: {Query{}, []string{"alice@example.com/alice-m1", "bob@example.com/bob-m2", "alice@example.com/alice-m3",
			"alice@example.com/alice-m4", "alice@example.com/alice-m5", room + "/r-g1", "zoë@example.com/zoë-m8",
			"alice@example.com/alice-m6", "alice@example.com/alice-m7"}},
		1: {Query{Participants: []string{"bob@example.com"}}, []string{"alice@example.com/alice-m1", "bob@example.com/bob-m2",
			"alice@example.com/alice-m3", "alice@example.com/alice-m4", "alice@example.com/alice-m6", "alice@example.com/alice-m7"}},
		2: {Query{Words: "MERGER"}, []string{"alice@example.com/alice-m1", "bob@example.com/bob-m2", "alice@example.com/alice-m5", room + "/r-g1"}},
		3: {Query{Words: "cafe", End: t0.Add(150 * time.Second)}, []string{"alice@example.com/alice-m3"}},
		4: {Query{Rooms: []string{room}}, []string{room + "/r-g1"}},
		5: {Query{Participants: []string{room + "/dave"}, Rooms: []string{"nowhere@conference.example.com"}}, []string{room + "/r-g1"}},
		6: {Query{Participants: []string{"carol@example.com"}}, []string{"alice@example.com/alice-m5"}},
		7: {Query{Start: t0.Add(5 * time.Minute), Words: "zurich"}, []string{"zoë@example.com/zoë-m8"}},
		8: {Query{Participants: []string{"Bob@Example.COM"}, Words: "quiet"}, []string{"bob@example.com/bob-m2"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			p, err := s.Search(t.Context(), tc.q, "", 100, "test")
			must(t, err)
			if got := ids(p.Messages); !slices.Equal(got, tc.want) || p.Next != "" {
				t.Fatalf("Search(%+v) = %q next %q, want %q", tc.q, got, p.Next, tc.want)
			}
			// Page by page, one message each: the same messages, once.
			var paged []string
			cursor := ""
			for range 20 {
				p, err := s.Search(t.Context(), tc.q, cursor, 1, "test")
				must(t, err)
				paged = append(paged, ids(p.Messages)...)
				if cursor = p.Next; cursor == "" {
					break
				}
			}
			if !slices.Equal(paged, tc.want) {
				t.Fatalf("paged %q, want %q", paged, tc.want)
			}
		})
	}
}

// TestSearchMessage: what a found message tells.
func TestSearchMessage(t *testing.T) {
	f := newFixture(t)
	f.corpus(t)
	s := f.service(t, Options{})
	p, err := s.Search(t.Context(), Query{}, "", 100, "test")
	must(t, err)
	byID := map[string]Message{}
	for _, m := range p.Messages {
		byID[m.ID] = m
	}
	m1 := byID["alice-m1"]
	if m1.From != "alice@example.com/phone" || m1.To != "bob@example.com" || m1.Thread != "t-1" || m1.MessageID != "m1" ||
		m1.Body != "The merger is confidential" || !slices.Equal(m1.Copies, []Copy{{"bob@example.com", "bob-m1"}}) ||
		!m1.Stamp.Equal(t0) || m1.Type != "chat" {
		t.Errorf("m1 = %+v", m1)
	}
	if m5 := byID["alice-m5"]; len(m5.Copies) != 0 || m5.From != "carol@example.com/phone" {
		t.Errorf("m5 (carol keeps no archive) = %+v", m5)
	}
	if m4 := byID["alice-m4"]; m4.Replaces != "m3" {
		t.Errorf("m4 = %+v, want a correction of m3", m4)
	}
	if m6 := byID["alice-m6"]; m6.Retracted == nil || m6.Retracted.Stamp != "2025-03-04T09:07:00Z" || m6.Body != "" ||
		!slices.Equal(m6.Copies, []Copy{{"bob@example.com", "bob-m6"}}) {
		t.Errorf("m6 = %+v, want the tombstone", m6)
	}
	if m7 := byID["alice-m7"]; m7.Retracts != "m6" {
		t.Errorf("m7 = %+v, want a retraction of m6", m7)
	}
	g1 := byID["r-g1"]
	if g1.Archive != "ops@conference.example.com" || g1.From != "ops@conference.example.com/dave" || len(g1.Attachments) != 2 {
		t.Errorf("g1 = %+v", g1)
	}
}

// TestSearchRefused: bad queries and cursors are refused with
// ErrBadQuery/ErrBadCursor, and every search is audited (a search that
// cannot be recorded is not run).
func TestSearchRefused(t *testing.T) {
	f := newFixture(t)
	s := f.service(t, Options{})
	ctx := t.Context()
	for i, q := range []Query{
		{Participants: []string{"not a jid@"}},
		{Participants: []string{"example.com"}},
		{Rooms: []string{"room@conference.example.com/nick"}},
		{Start: t0, End: t0.Add(-time.Second)},
		{Participants: make([]string, MaxParticipants+1)},
	} {
		if _, err := s.Search(ctx, q, "", 10, "test"); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%d: %v, want ErrBadQuery", i, err)
		}
	}
	for _, c := range []string{"x", "s-1", "s!"} {
		if _, err := s.Search(ctx, Query{}, c, 10, "test"); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", c, err)
		}
	}
	if _, err := s.Search(ctx, Query{}, "", 0, "test"); !errors.Is(err, ErrBadQuery) {
		t.Errorf("limit 0: %v", err)
	}
	if _, err := s.Search(ctx, Query{Words: "merger"}, "", 10, "admin-token:abc"); err != nil {
		t.Fatal(err)
	}
	f.log.Close()
	recs, err := audit.Query(ctx, f.st, store.AuditQuery{Action: audit.ActionExport, Limit: 10})
	must(t, err)
	if len(recs) != 1 || recs[0].Actor != "admin-token:abc" || recs[0].Details["op"] != "search" ||
		recs[0].Details["query"] != `{"words":"merger"}` {
		t.Fatalf("audit records %+v, want the one search", recs)
	}
	if _, err := s.Search(ctx, Query{}, "", 10, "test"); err == nil {
		t.Fatal("a search with the audit log closed was run")
	}
}

// TestSearchBusyConversation: 250 messages of one conversation within a
// minute (more than one page of the other archive around each): every
// message still once, each with its copy.
func TestSearchBusyConversation(t *testing.T) {
	f := newFixture(t)
	for i := range 250 {
		f.chat(t, "alice", "bob", 0, "busy"+strconv.Itoa(i), "<body>same words</body>", true)
	}
	s := f.service(t, Options{})
	var all []Message
	cursor := ""
	for range 10 {
		p, err := s.Search(t.Context(), Query{Participants: []string{"alice@example.com"}}, cursor, 100, "test")
		must(t, err)
		all = append(all, p.Messages...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(all) != 250 {
		t.Fatalf("%d messages, want 250", len(all))
	}
	for _, m := range all {
		if m.Archive != "alice@example.com" || len(m.Copies) != 1 || m.Copies[0].ID != "bob-"+m.MessageID {
			t.Fatalf("%+v", m)
		}
	}
}
