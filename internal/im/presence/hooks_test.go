package presence

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"parley/internal/jid"
	"parley/internal/stanza"
)

// TestAvailabilityHooks: OnAvailable sees every broadcast available
// presence, marked initial only the first time; OnUnavailable sees the
// session leave by unavailable presence, not by its end (the router's
// SessionEnded tells that).
func TestAvailabilityHooks(t *testing.T) {
	e := newEnv(t)
	var calls []string
	e.h.OnAvailable = func(_ context.Context, st *stanza.Stanza, initial bool) {
		calls = append(calls, "available "+st.From.String()+" "+strconv.FormatBool(initial))
	}
	e.h.OnUnavailable = func(full jid.JID) { calls = append(calls, "unavailable "+full.String()) }

	e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
	e.send(t, e.a1, `<presence xmlns='jabber:client'><show>away</show></presence>`)
	e.send(t, e.a1, `<presence xmlns='jabber:client' type='unavailable'/>`)
	e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
	e.send(t, e.a1, `<presence xmlns='jabber:client' to='bob@example.com'/>`) // directed: not broadcast
	res, _ := e.r.Lookup(e.a1.JID())
	e.r.Unbind(context.Background(), res.Session)
	want := []string{
		"available alice@example.com/one true",
		"available alice@example.com/one false",
		"unavailable alice@example.com/one",
		"available alice@example.com/one true",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("hook calls %q, want %q", calls, want)
	}
}
