package roster

import (
	"context"
	"slices"
	"sync"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/store"
)

// sharedMap is a Shared source a test changes.
type sharedMap struct {
	mu sync.Mutex
	m  map[string]map[string]SharedContact
}

func (s *sharedMap) SharedContacts(user string) map[string]SharedContact {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[user]
}

func (s *sharedMap) set(user string, c map[string]SharedContact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[user] = c
}

// Shared contacts appear in roster gets, items, audiences and pushes with
// subscription both, over what the user stored, and leave when unshared.
func TestShared(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, store.RosterItem{JID: "carol@example.com", Name: "C", Groups: []string{"mine"}, Subscription: store.SubTo})
	sh := &sharedMap{m: map[string]map[string]SharedContact{}}
	e.m.sharedSrc = sh
	alice := jid.MustParse("alice@example.com")
	get := func() (string, []string) {
		e.one.Take() // pushes to alice/one, interested since its first get
		st := e.route(t, `<iq xmlns='jabber:client' from='alice@example.com/one' id='g' type='get'><query xmlns='jabber:iq:roster' ver=''/></iq>`)
		var items []string
		for _, c := range st.Payload().Children {
			items = append(items, itemString(c))
		}
		return st.Payload().Get("ver"), items
	}
	ver0, items := get()
	if want := []string{"carol@example.com to name=C groups=mine"}; !slices.Equal(items, want) {
		t.Fatalf("before sharing: %v, want %v", items, want)
	}

	sh.set("alice", map[string]SharedContact{
		"bob@example.com":   {Name: "Bob B", Groups: []string{"Engineering"}},
		"carol@example.com": {Name: "Carol", Groups: []string{"Engineering", "Staff"}},
	})
	if err := e.m.SharedChanged(ctx, alice, []jid.JID{jid.MustParse("bob@example.com"), jid.MustParse("carol@example.com")}); err != nil {
		t.Fatal(err)
	}
	want := []string{"bob@example.com both name=Bob B groups=Engineering", "carol@example.com both name=C groups=Engineering,Staff,mine"}
	if got := pushes(t, e.two); !slices.Equal(got, want) {
		t.Fatalf("pushes %v, want %v", got, want)
	}
	ver1, items := get()
	if !slices.Equal(items, want) || ver1 == ver0 {
		t.Fatalf("roster %q %v, want a new version and %v", ver1, items, want)
	}
	// §2.6.3: the current version gets an empty result.
	e.one.Take()
	st := e.route(t, `<iq xmlns='jabber:client' from='alice@example.com/one' id='g' type='get'><query xmlns='jabber:iq:roster' ver='`+ver1+`'/></iq>`)
	if st.Payload() != nil {
		t.Fatalf("current version answered with %s", st.El)
	}
	subs, pubs, err := e.m.Audience(ctx, alice)
	if err != nil || len(subs) != 2 || len(pubs) != 2 {
		t.Fatalf("Audience = %v, %v, %v; want bob and carol both ways", subs, pubs, err)
	}
	if it, ok, _ := e.m.Item(ctx, alice, jid.MustParse("bob@example.com/phone")); !ok || it.Subscription != store.SubBoth {
		t.Fatalf("Item(bob) = %+v, %v", it, ok)
	}
	// A shared contact cannot be removed; removing what the user stored
	// of one leaves the shared item.
	e.one.Take()
	if st := e.route(t, set(`<item jid='bob@example.com' subscription='remove'/>`)); errCondition(st) != "not-allowed" {
		t.Fatalf("removing a shared contact: %s", st.El)
	}
	e.r.Route(ctx, imtest.Parse(t, set(`<item jid='carol@example.com' subscription='remove'/>`)))
	if got := e.one.Take(); len(got) != 2 || errCondition(got[1]) != "" {
		t.Fatalf("removing carol: %v", imtest.Summary(got))
	}
	if got, want := pushes(t, e.two), []string{"carol@example.com both name=Carol groups=Engineering,Staff"}; !slices.Equal(got, want) {
		t.Fatalf("pushes after remove %v, want %v", got, want)
	}

	sh.set("alice", nil)
	if err := e.m.SharedChanged(ctx, alice, []jid.JID{jid.MustParse("bob@example.com"), jid.MustParse("carol@example.com")}); err != nil {
		t.Fatal(err)
	}
	want = []string{"bob@example.com remove", "carol@example.com remove"}
	if got := pushes(t, e.two); !slices.Equal(got, want) {
		t.Fatalf("pushes after unsharing %v, want %v", got, want)
	}
	if _, ok, _ := e.m.Item(ctx, alice, jid.MustParse("bob@example.com")); ok {
		t.Fatal("bob still an item after unsharing")
	}
}
