package barrier

import (
	"context"
	"strings"
	"testing"

	"parley/internal/audit"
	"parley/internal/audit/audittest"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
)

func setup(t *testing.T) (*router.Router, *Module, *audittest.Recorder, map[string]*imtest.Session) {
	t.Helper()
	r := router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "bob": true, "carol": true}, nil)
	rec := &audittest.Recorder{}
	m := New(Options{Audit: rec, Barriers: []Barrier{{Name: "research/trading",
		A: []jid.JID{jid.MustParse("alice@example.com")}, B: []jid.JID{jid.MustParse("bob@example.com")}}}})
	m.Register(r)
	s := map[string]*imtest.Session{}
	for _, u := range []string{"alice", "bob", "carol"} {
		s[u] = imtest.Available(t, r, u+"@example.com/desk", 0, nil)
	}
	return r, m, rec, s
}

// TestBarrierStanzas: across the barrier, requests bounce with
// policy-violation naming it and are audited; broadcasts, answers and the
// server's notifications for an account are dropped without a word; to
// anyone else everything passes.
func TestBarrierStanzas(t *testing.T) {
	r, _, rec, s := setup(t)
	ctx := context.Background()
	tests := []struct {
		raw       string
		bounced   bool // the sender gets policy-violation
		delivered bool // to's session gets it
	}{
		0: {"<message type='chat' id='m1' from='alice@example.com/desk' to='bob@example.com'><body>hi</body></message>", true, false},
		1: {"<message type='chat' id='m2' from='bob@example.com/desk' to='alice@example.com/desk'><body>hi</body></message>", true, false},
		2: {"<iq type='get' id='q1' from='bob@example.com/desk' to='alice@example.com'><vCard xmlns='vcard-temp'/></iq>", true, false},
		3: {"<presence type='subscribe' id='s1' from='alice@example.com/desk' to='bob@example.com'/>", true, false}, // outbound
		4: {"<presence from='alice@example.com/desk' to='bob@example.com/desk'/>", false, false},
		5: {"<message type='headline' from='alice@example.com' to='bob@example.com/desk'><event xmlns='http://jabber.org/protocol/pubsub#event'/></message>", false, false},
		6: {"<iq type='result' id='q2' from='bob@example.com/desk' to='alice@example.com/desk'/>", false, false},
		7: {"<message type='chat' id='m3' from='alice@example.com/desk' to='carol@example.com'><body>hi</body></message>", false, true},
		8: {"<message type='chat' from='carol@example.com/desk' to='bob@example.com'><body>hi</body></message>", false, true},
	}
	for i, tc := range tests {
		st := imtest.Parse(t, tc.raw)
		r.Route(ctx, st)
		from, to := s[st.From.Local()], s[st.To.Local()]
		got := from.Take()
		if tc.bounced {
			if len(got) != 1 || got[0].Type != "error" || !strings.Contains(got[0].El.String(), "policy-violation") ||
				!strings.Contains(got[0].El.String(), "research/trading") {
				t.Errorf("%d: sender got %v, want policy-violation naming the barrier", i, got)
			}
		} else if len(got) != 0 {
			t.Errorf("%d: sender got %v, want nothing", i, got)
		}
		delivered := to.Take()
		if tc.delivered != (len(delivered) > 0) {
			t.Errorf("%d: recipient got %v, want delivered=%v", i, delivered, tc.delivered)
		}
	}
	got := rec.Records()
	// alice→bob and bob→alice once each (the IQ is throttled with bob's
	// message: same policy, sender and recipient within a minute).
	if len(got) != 2 {
		t.Fatalf("audited %d records, want 2: %+v", len(got), got)
	}
	if r0 := got[0]; r0.Actor != "alice@example.com" || r0.Target != "bob@example.com" || r0.Outcome != audit.OutcomeDenied || r0.Details["policy"] != Policy {
		t.Errorf("record %+v", r0)
	}
}

// TestAdmit: a room with someone of one side refuses the other side, and
// admits anyone else.
func TestAdmit(t *testing.T) {
	_, m, rec, _ := setup(t)
	room := jid.MustParse("lobby@conference.example.com")
	alice, bob, carol := jid.MustParse("alice@example.com"), jid.MustParse("bob@example.com"), jid.MustParse("carol@example.com")
	if err := m.Admit(room, bob, []jid.JID{carol, alice}); err == nil || !strings.Contains(err.Error(), "research/trading") {
		t.Errorf("bob admitted beside alice: %v", err)
	}
	if err := m.Admit(room, carol, []jid.JID{alice, bob}); err != nil {
		t.Errorf("carol refused: %v", err)
	}
	if err := m.Admit(room, alice, []jid.JID{carol}); err != nil {
		t.Errorf("alice refused: %v", err)
	}
	if got := rec.Records(); len(got) != 1 || got[0].Target != room.String() {
		t.Errorf("audited %+v", got)
	}
}
