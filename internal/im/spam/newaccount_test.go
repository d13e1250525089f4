package spam

import (
	"context"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

type fakeUsers map[string]time.Time

func (f fakeUsers) GetUser(_ context.Context, u string) (store.User, error) {
	c, ok := f[u]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return store.User{Username: u, Created: c}, nil
}

// fakeRoster: every user's roster holds friend@montague.lit only.
type fakeRoster struct{}

func (fakeRoster) Item(_ context.Context, _, contact jid.JID) (store.RosterItem, bool, error) {
	if contact.Bare().String() == "friend@montague.lit" {
		return store.RosterItem{JID: "friend@montague.lit"}, true, nil
	}
	return store.RosterItem{}, false, nil
}

// TestNewAccountLimit: an account younger than the period sends at most
// the rate of messages a minute to strangers (then policy-violation, type
// wait); to roster contacts and in groupchat without limit; the count
// starts again each minute; an older account is not limited.
func TestNewAccountLimit(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	r := router.New(jid.MustParse("capulet.lit"), nil, nil)
	r.SetRemote(imtest.NewRemote(t))
	New(Options{Users: fakeUsers{"fresh": now.Add(-time.Hour), "old": now.Add(-25 * time.Hour)}, Roster: fakeRoster{},
		NewAccountRate: 2, Now: func() time.Time { return now }}).Register(r)
	fresh := imtest.NewSession(t, "fresh@capulet.lit/x")
	old := imtest.NewSession(t, "old@capulet.lit/x")
	r.Bind(fresh)
	r.Bind(old)
	send := func(s *imtest.Session, typ, to string) (errs int, cond string) {
		r.Route(ctx, imtest.Parse(t, `<message type='`+typ+`' from='`+s.JID().String()+`' to='`+to+`'><body>hi</body></message>`))
		for _, st := range s.Take() {
			if st.Type == "error" {
				errs++
				cond = st.El.Child("error", "").Get("type") + " " + condOf(st.El.Child("error", "").Children)
			}
		}
		return errs, cond
	}
	for i := range 2 {
		if n, c := send(fresh, "chat", "stranger@montague.lit"); n != 0 {
			t.Fatalf("message %d to a stranger refused: %s", i, c)
		}
	}
	if n, c := send(fresh, "chat", "other@montague.lit"); n != 1 || c != "wait policy-violation" {
		t.Fatalf("third message to a stranger: %d errors %q, want wait policy-violation", n, c)
	}
	if n, _ := send(fresh, "chat", "friend@montague.lit"); n != 0 {
		t.Error("message to a roster contact refused")
	}
	if n, _ := send(fresh, "groupchat", "room@conference.capulet.lit"); n != 0 {
		t.Error("groupchat message refused")
	}
	for range 5 {
		if n, _ := send(old, "chat", "stranger@montague.lit"); n != 0 {
			t.Fatal("an old account was limited")
		}
	}
	now = now.Add(time.Minute)
	if n, _ := send(fresh, "chat", "stranger@montague.lit"); n != 0 {
		t.Error("a minute later the new account is still refused")
	}
	now = now.Add(24 * time.Hour)
	for range 5 {
		if n, _ := send(fresh, "chat", "stranger@montague.lit"); n != 0 {
			t.Fatal("a day later the account is still limited")
		}
	}
}

func condOf(children []*xmlstream.Element) string {
	for _, c := range children {
		if c.Name != "text" {
			return c.Name
		}
	}
	return ""
}
