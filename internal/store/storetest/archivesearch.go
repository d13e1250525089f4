package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"parley/internal/store"
)

// ArchiveSearch is the suite of the cross-archive search cases (compliance
// e-discovery).
var ArchiveSearch = Suite{archiveSearchCases, nil}

// searchCorpus fills alice's, bob's, carol's and a room's archives: a
// conversation alice-bob archived on both sides, one alice-carol, and
// the room's messages. It returns the messages in append order.
func searchCorpus(t *testing.T, ctx context.Context, s store.Store) []store.ArchivedMessage {
	t.Helper()
	create(t, ctx, s, "alice", "bob", "carol")
	must(t, "PutRoom", s.PutRoom(ctx, room("ops@conference.example.com")))
	m := func(owner, id, with string, min int, text string) store.ArchivedMessage {
		return store.ArchivedMessage{Owner: owner, ID: id, With: with, Stamp: archiveT0.Add(time.Duration(min) * time.Minute),
			Stanza: []byte(`<message xmlns='jabber:client' id='` + id + `'><body>` + text + `</body></message>`), Text: text}
	}
	msgs := []store.ArchivedMessage{
		m("alice", "a1", "bob@example.com", 0, "The merger is confidential"),
		m("bob", "b1", "alice@example.com", 0, "The merger is confidential"),
		m("alice", "a2", "carol@example.com", 10, "Lunch at the Café?"),
		m("carol", "c1", "alice@example.com", 10, "Lunch at the Café?"),
		m("ops@conference.example.com", "r1", "ops@conference.example.com/dave", 20, "deploy the MERGER branch"),
		m("bob", "b2", "carol@example.com", 30, "no words of note"),
		m("ops@conference.example.com", "r2", "ops@conference.example.com/erin", 40, ""),
	}
	for _, x := range msgs {
		must(t, "AppendArchive", s.AppendArchive(ctx, []store.ArchivedMessage{x}))
	}
	return msgs
}

// searchIDs runs a search and returns "owner/id" of each message found.
func searchIDs(t *testing.T, ctx context.Context, s store.Store, q store.ArchiveSearch) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	found, err := s.SearchArchives(ctx, q)
	must(t, "SearchArchives", err)
	out := []string{}
	var last int64
	for _, f := range found {
		if f.Seq <= last {
			t.Fatalf("SearchArchives(%+v): seq %d after %d, want ascending", q, f.Seq, last)
		}
		last = f.Seq
		out = append(out, f.Owner+"/"+f.ID)
	}
	return out
}

var archiveSearchCases = []scenario{
	{"every archive in append order", func(t *testing.T, ctx context.Context, s store.Store) {
		msgs := searchCorpus(t, ctx, s)
		found, err := s.SearchArchives(ctx, store.ArchiveSearch{Limit: 100})
		must(t, "SearchArchives", err)
		if len(found) != len(msgs) {
			t.Fatalf("found %d, want %d", len(found), len(msgs))
		}
		for i, f := range found {
			w := msgs[i]
			if f.Owner != w.Owner || f.ID != w.ID || f.With != w.With || !f.Stamp.Equal(w.Stamp) ||
				string(f.Stanza) != string(w.Stanza) || f.Text != w.Text || f.Seq <= 0 {
				t.Fatalf("found %d = %+v, want %+v", i, f, w)
			}
		}
	}},
	{"owners and other parties select a union", func(t *testing.T, ctx context.Context, s store.Store) {
		searchCorpus(t, ctx, s)
		wantStrings(t, "owner alice", searchIDs(t, ctx, s, store.ArchiveSearch{Owners: []string{"alice"}}),
			[]string{"alice/a1", "alice/a2"})
		wantStrings(t, "alice as owner or party", searchIDs(t, ctx, s, store.ArchiveSearch{
			Owners: []string{"alice"}, With: []string{"alice@example.com"}}),
			[]string{"alice/a1", "bob/b1", "alice/a2", "carol/c1"})
		wantStrings(t, "the room", searchIDs(t, ctx, s, store.ArchiveSearch{Owners: []string{"ops@conference.example.com"}}),
			[]string{"ops@conference.example.com/r1", "ops@conference.example.com/r2"})
		wantStrings(t, "a room occupant", searchIDs(t, ctx, s, store.ArchiveSearch{With: []string{"ops@conference.example.com/erin"}}),
			[]string{"ops@conference.example.com/r2"})
		wantStrings(t, "nobody's", searchIDs(t, ctx, s, store.ArchiveSearch{Owners: []string{"zed"}}), []string{})
	}},
	{"words across archives, case and accent insensitive", func(t *testing.T, ctx context.Context, s store.Store) {
		searchCorpus(t, ctx, s)
		wantStrings(t, "merger", searchIDs(t, ctx, s, store.ArchiveSearch{Text: "merger"}),
			[]string{"alice/a1", "bob/b1", "ops@conference.example.com/r1"})
		wantStrings(t, "cafe lunch", searchIDs(t, ctx, s, store.ArchiveSearch{Text: "cafe LUNCH"}),
			[]string{"alice/a2", "carol/c1"})
		wantStrings(t, "merger in bob's", searchIDs(t, ctx, s, store.ArchiveSearch{Text: "Merger", Owners: []string{"bob"}}),
			[]string{"bob/b1"})
		wantStrings(t, "no such word", searchIDs(t, ctx, s, store.ArchiveSearch{Text: "acquisition"}), []string{})
		wantStrings(t, "punctuation only is no filter", searchIDs(t, ctx, s, store.ArchiveSearch{Text: "?!", Owners: []string{"carol"}}),
			[]string{"carol/c1"})
	}},
	{"date range is inclusive", func(t *testing.T, ctx context.Context, s store.Store) {
		searchCorpus(t, ctx, s)
		wantStrings(t, "10..30 min", searchIDs(t, ctx, s, store.ArchiveSearch{
			Start: archiveT0.Add(10 * time.Minute), End: archiveT0.Add(30 * time.Minute)}),
			[]string{"alice/a2", "carol/c1", "ops@conference.example.com/r1", "bob/b2"})
		wantStrings(t, "with words", searchIDs(t, ctx, s, store.ArchiveSearch{Text: "merger", Start: archiveT0.Add(time.Minute)}),
			[]string{"ops@conference.example.com/r1"})
	}},
	{"pages by seq", func(t *testing.T, ctx context.Context, s store.Store) {
		msgs := searchCorpus(t, ctx, s)
		for _, text := range []string{"", "merger"} {
			var got []string
			q := store.ArchiveSearch{Text: text, Limit: 2}
			for range len(msgs) + 1 {
				found, err := s.SearchArchives(ctx, q)
				must(t, "SearchArchives", err)
				for _, f := range found {
					got = append(got, f.Owner+"/"+f.ID)
				}
				if len(found) < q.Limit {
					break
				}
				q.After = found[len(found)-1].Seq
			}
			want := searchIDs(t, ctx, s, store.ArchiveSearch{Text: text})
			wantStrings(t, fmt.Sprintf("pages of %q", text), got, want)
		}
	}},
	{"a retracted message is found as its tombstone, not by its words", func(t *testing.T, ctx context.Context, s store.Store) {
		searchCorpus(t, ctx, s)
		tomb := `<message xmlns='jabber:client' id='b1'><retracted xmlns='urn:xmpp:message-retract:1' stamp='2025-03-04T06:00:00Z'/></message>`
		must(t, "RetractArchived", s.RetractArchived(ctx, "bob", "b1", []byte(tomb)))
		wantStrings(t, "merger", searchIDs(t, ctx, s, store.ArchiveSearch{Text: "merger"}),
			[]string{"alice/a1", "ops@conference.example.com/r1"})
		found, err := s.SearchArchives(ctx, store.ArchiveSearch{Owners: []string{"bob"}, Limit: 1})
		must(t, "SearchArchives", err)
		if len(found) != 1 || string(found[0].Stanza) != tomb || found[0].Text != "" {
			t.Fatalf("bob's first = %+v, want the tombstone", found)
		}
	}},
}
