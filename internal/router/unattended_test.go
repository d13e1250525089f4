package router_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/router"
	"parley/internal/stanza"
)

// hibernating is a session whose client is away (XEP-0198 waiting for a
// resumption) while away is true.
type hibernating struct {
	*imtest.Session
	away bool
}

func (h *hibernating) Hibernated() bool { return h.away }

// bindHibernating binds tybalt, whose one session hibernates, and paris,
// one of whose two sessions does.
func bindHibernating(t *testing.T, r *router.Router) (tybalt, parisAway, parisHere *hibernating) {
	tybalt = &hibernating{Session: imtest.NewSession(t, "tybalt@example.com/phone"), away: true}
	parisAway = &hibernating{Session: imtest.NewSession(t, "paris@example.com/phone"), away: true}
	parisHere = &hibernating{Session: imtest.NewSession(t, "paris@example.com/desk")}
	for _, s := range []*hibernating{tybalt, parisAway, parisHere} {
		r.Bind(s)
	}
	return tybalt, parisAway, parisHere
}

// TestUnattended: OnUnattended sees a message that was stored offline or
// queued for sessions that all hibernate, and nothing a connected client
// gets, nor what was not kept.
func TestUnattended(t *testing.T) {
	tests := []struct {
		stanza string
		want   bool
	}{
		0: {`<message from='romeo@example.com/orchard' to='nurse@example.com' type='chat'><body>stored</body></message>`, true},
		1: {`<message from='romeo@example.com/orchard' to='juliet@example.com' type='chat'><body>live</body></message>`, false},
		2: {`<message from='romeo@example.com/orchard' to='tybalt@example.com' type='chat'><body>away</body></message>`, true},
		3: {`<message from='romeo@example.com/orchard' to='tybalt@example.com/phone' type='groupchat'><body>room</body></message>`, true},
		4: {`<message from='romeo@example.com/orchard' to='tybalt@example.com/phone' type='error'><body>x</body></message>`, false},
		5: {`<message from='romeo@example.com/orchard' to='nobody@example.com' type='chat'><body>bounced</body></message>`, false},
		6: {`<message from='romeo@example.com/orchard' to='paris@example.com' type='chat'><body>one away, one here</body></message>`, false},
	}
	r, _, off := setup(t)
	tybalt, parisAway, parisHere := bindHibernating(t, r)
	for _, s := range []*hibernating{tybalt, parisAway, parisHere} {
		r.SetAvailability(s.JID(), true, 0, nil)
	}
	var seen []*stanza.Stanza
	r.OnUnattended(func(_ context.Context, msgs []*stanza.Stanza) { seen = append(seen, msgs...) })
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			seen = nil
			stored := len(off.stored)
			r.Route(context.Background(), parse(t, tc.stanza))
			if got := len(seen) == 1; got != tc.want || len(seen) > 1 {
				t.Fatalf("unattended saw %d messages, want %v", len(seen), tc.want)
			}
			if tc.want && i == 0 && len(off.stored) != stored+1 {
				t.Fatal("not stored offline")
			}
		})
	}
	// Resumed: tybalt's client is back, nothing is unattended.
	tybalt.away = false
	seen = nil
	r.Route(context.Background(), parse(t, `<message from='romeo@example.com/orchard' to='tybalt@example.com' type='chat'><body>back</body></message>`))
	if len(seen) != 0 {
		t.Fatalf("unattended saw %d messages for a resumed session", len(seen))
	}
}

// TestHibernate: the messages a session's client had not acknowledged
// when it began to hibernate reach OnUnattended in one call, oldest first
// (not errors, not presence), unless another session of the account has
// a client connected.
func TestHibernate(t *testing.T) {
	r, _, _ := setup(t)
	tybalt, parisAway, _ := bindHibernating(t, r)
	var calls [][]string
	r.OnUnattended(func(_ context.Context, msgs []*stanza.Stanza) {
		var bodies []string
		for _, st := range msgs {
			bodies = append(bodies, st.To.String()+" "+st.El.ChildText("body", ""))
		}
		calls = append(calls, bodies)
	})
	unacked := [][]byte{
		[]byte(`<message from='romeo@example.com/orchard' to='tybalt@example.com/phone' type='chat'><body>one</body></message>`),
		[]byte(`<presence from='romeo@example.com/orchard' to='tybalt@example.com/phone'/>`),
		[]byte(`<message from='romeo@example.com/orchard' to='tybalt@example.com/phone' type='error'><body>bounced</body></message>`),
		[]byte(`<message from='romeo@example.com/orchard' type='chat'><body>two</body></message>`),
	}
	r.Hibernate(context.Background(), tybalt.JID(), unacked)
	want := "[[tybalt@example.com/phone one tybalt@example.com/phone two]]"
	if got := fmt.Sprint(calls); got != want {
		t.Fatalf("unattended saw %s, want %s", got, want)
	}
	calls = nil
	r.Hibernate(context.Background(), parisAway.JID(), unacked)
	r.Hibernate(context.Background(), tybalt.JID(), unacked[1:3])
	if len(calls) != 0 {
		t.Fatalf("unattended saw %v: a client is connected, or nothing to tell", calls)
	}
}
