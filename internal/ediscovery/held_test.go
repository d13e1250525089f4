package ediscovery

import (
	"slices"
	"testing"

	"parley/internal/store"
)

// TestHeld: under legal holds on alice, zoë and the ops room, compliance
// sees what users no longer do: a retracted message's original beside its
// tombstone (and found by its words, which the tombstone lost), a deleted
// room's message, and a deleted account's message once (alice's copy).
func TestHeld(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	const room = "ops@conference.example.com"
	_, err := f.st.CreateHold(ctx, store.LegalHold{Name: "case 42", CreatedBy: "test", Users: []string{"alice", "zoë"}, Rooms: []string{room}})
	must(t, err)
	f.corpus(t)
	must(t, f.st.DeleteRoom(ctx, room))
	must(t, f.st.DeleteUser(ctx, "zoë"))
	s := f.service(t, Options{})

	search := func(q Query) map[string]Message {
		t.Helper()
		var all []Message
		cursor := ""
		for range 20 { // one by one: the held pass pages too
			p, err := s.Search(ctx, q, cursor, 1, "test")
			must(t, err)
			all = append(all, p.Messages...)
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		byID := map[string]Message{}
		for _, m := range all {
			if _, dup := byID[m.ID]; dup {
				t.Fatalf("%s reported twice in %q", m.ID, ids(all))
			}
			byID[m.ID] = m
		}
		return byID
	}

	all := search(Query{})
	m6 := all["alice-m6"]
	if m6.Retracted == nil || m6.Held == nil || m6.Held.Cause != store.HeldRetracted || m6.Held.Body != "Delete this" ||
		!slices.Equal(m6.Copies, []Copy{{"bob@example.com", "bob-m6"}}) {
		t.Errorf("m6 = %+v held %+v, want the tombstone with alice's original", m6, m6.Held)
	}
	g1 := all["r-g1"]
	if g1.Held == nil || g1.Held.Cause != store.HeldDeleted || g1.Archive != room || g1.Body == "" {
		t.Errorf("g1 = %+v, want the deleted room's original", g1)
	}
	if _, ok := all["zoë-m8"]; ok {
		t.Errorf("zoë's kept original reported beside alice's copy")
	}
	if m8 := all["alice-m8"]; m8.Body == "" {
		t.Errorf("alice's copy of zoë's message missing: %q", mapKeysOf(all))
	}
	if len(all) != 9 {
		t.Errorf("found %q, want 9", mapKeysOf(all))
	}

	words := search(Query{Words: "delete"})
	if m6 := words["alice-m6"]; len(words) != 1 || m6.Retracted == nil || m6.Held == nil || m6.Body != "Delete this" {
		t.Errorf("search for the retracted words: %+v", words)
	}
	if room := search(Query{Rooms: []string{room}, Words: "deploy"}); len(room) != 1 || room["r-g1"].Held == nil {
		t.Errorf("the deleted room's message by its words: %+v", room)
	}

	// The export carries the originals too, with the retraction.
	_, zb := exportAll(t, s, Query{Words: "delete"})
	msgs := lines(t, unzip(t, zb)[MessagesFile])
	if len(msgs) != 2 || msgs[0].Held == nil || msgs[0].Held.Body != "Delete this" || msgs[1].Related != "retraction" {
		t.Fatalf("export %+v", msgs)
	}
}

func mapKeysOf(m map[string]Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
