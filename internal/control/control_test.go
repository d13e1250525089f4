package control

import (
	"context"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
)

// Deleting an account ends each of its sessions once and counts each once,
// though a terminated session stays bound until it has closed (as c2s's
// do) and the deletion looks for sessions twice.
func TestDeleteUserEndsEachSessionOnce(t *testing.T) {
	users := imtest.NewUsers("alice", "bob")
	r := router.New(jid.MustParse("localhost"), users, nil)
	phone := imtest.NewSession(t, "alice@localhost/phone")
	desk := imtest.NewSession(t, "alice@localhost/desk")
	bob := imtest.NewSession(t, "bob@localhost/desk")
	for _, s := range []*imtest.Session{phone, desk, bob} {
		r.Bind(s)
	}
	o := &Ops{Domain: jid.MustParse("localhost"), Users: users, Sessions: r}

	n, err := o.DeleteUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("DeleteUser reports %d sessions ended, want 2", n)
	}
	for _, s := range []*imtest.Session{phone, desk} {
		if got := s.Ended(); got != "not-authorized" {
			t.Errorf("%s ended with %q, want not-authorized", s.JID(), got)
		}
	}
	if got := bob.Ended(); got != "" {
		t.Errorf("another account's session was ended (%s)", got)
	}
	if _, ok := users.User("alice"); ok {
		t.Error("alice is still stored")
	}
}
