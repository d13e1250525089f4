package spam

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/audit/audittest"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
)

func TestBlocklistMatches(t *testing.T) {
	b := New(Options{Blocked: []jid.JID{jid.MustParse("evil.lit"), jid.MustParse("spam@capulet.lit"),
		jid.MustParse("bot@other.lit/one")}}).blocked
	for i, tc := range []struct {
		j    string
		want bool
	}{
		0: {"evil.lit", true}, 1: {"x@evil.lit/r", true}, 2: {"muc.evil.lit", true}, 3: {"notevil.lit", false},
		4: {"spam@capulet.lit/phone", true}, 5: {"juliet@capulet.lit", false}, 6: {"capulet.lit", false},
		7: {"bot@other.lit/one", true}, 8: {"bot@other.lit/two", false}, 9: {"bot@other.lit", false},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := b.Matches(jid.MustParse(tc.j)); got != tc.want {
				t.Errorf("Matches(%s) = %v, want %v", tc.j, got, tc.want)
			}
		})
	}
}

// cond is the defined condition of an error stanza.
func cond(st *stanza.Stanza) string {
	if e := st.El.Child("error", ""); e != nil {
		for _, c := range e.Children {
			if c.Space == stanza.NSStanzas && c.Name != "text" {
				return c.Name
			}
		}
	}
	return ""
}

// TestServerBlocklist: stanzas to a blocked address bounce with
// not-allowed (RFC 6120 §8.3.3.10), stanzas from one find the user
// absent (service-unavailable, presence dropped), a blocked local account
// reaches nobody and nobody reaches it; others pass.
func TestServerBlocklist(t *testing.T) {
	ctx := context.Background()
	r := router.New(jid.MustParse("capulet.lit"), nil, nil)
	pres := &imtest.Presence{}
	r.SetPresence(pres)
	remote := imtest.NewRemote(t)
	r.SetRemote(remote)
	New(Options{Blocked: []jid.JID{jid.MustParse("evil.lit"), jid.MustParse("spam@capulet.lit")}}).Register(r)
	juliet := imtest.Available(t, r, "juliet@capulet.lit/balcony", 0, []byte(`<presence/>`))
	spam := imtest.Available(t, r, "spam@capulet.lit/x", 0, []byte(`<presence/>`))
	route := func(s string) { r.Route(ctx, imtest.Parse(t, s)) }

	route(`<message type='chat' id='o1' from='juliet@capulet.lit/balcony' to='x@evil.lit'><body>hi</body></message>`)
	route(`<iq type='get' id='o2' from='juliet@capulet.lit/balcony' to='muc.evil.lit'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	route(`<message type='chat' id='o3' from='juliet@capulet.lit/balcony' to='spam@capulet.lit'><body>hi</body></message>`)
	route(`<presence type='subscribe' id='o4' from='juliet@capulet.lit/balcony' to='x@evil.lit'/>`)
	got := juliet.Take()
	if len(got) != 3 {
		t.Fatalf("juliet got %v, want 3 errors", got)
	}
	for _, st := range got {
		if st.Type != "error" || cond(st) != "not-allowed" {
			t.Errorf("juliet got %v, want not-allowed", st)
		}
	}
	if sent := remote.Take(); len(sent) != 0 {
		t.Errorf("sent to the blocked domain: %v", sent)
	}

	// From a blocked address (as federation will deliver it): absent.
	r.Send(ctx, imtest.Parse(t, `<message type='chat' id='i1' from='x@evil.lit/r' to='juliet@capulet.lit'><body>spam</body></message>`))
	r.Send(ctx, imtest.Parse(t, `<presence type='subscribe' from='x@evil.lit/r' to='juliet@capulet.lit'/>`))
	if got := juliet.Take(); len(got) != 0 {
		t.Errorf("juliet received %v from a blocked domain", got)
	}
	if got := pres.Take(); len(got) != 0 {
		t.Errorf("presence from a blocked domain reached the handler: %v", got)
	}
	if sent := remote.Take(); len(sent) != 1 || sent[0].Type != "error" || cond(sent[0]) != "service-unavailable" {
		t.Errorf("answer to the blocked domain: %v, want one service-unavailable", sent)
	}

	// The blocked local account sends nothing to others.
	route(`<message type='chat' id='s1' from='spam@capulet.lit/x' to='juliet@capulet.lit'><body>buy</body></message>`)
	if got := spam.Take(); len(got) != 1 || cond(got[0]) != "not-allowed" {
		t.Errorf("spam got %v, want not-allowed", got)
	}
	if got := juliet.Take(); len(got) != 0 {
		t.Errorf("juliet received %v from a blocked account", got)
	}

	// Others pass.
	route(`<message type='chat' id='ok' from='juliet@capulet.lit/balcony' to='romeo@montague.lit'><body>hi</body></message>`)
	if sent := remote.Take(); len(sent) != 1 || sent[0].ID != "ok" {
		t.Errorf("remote got %v, want juliet's message", sent)
	}
}

// TestRefusalsAudited: a refusal is recorded (action policy, outcome
// denied, the policy, the stanza and the condition); more of the same
// sender to the same recipient within a minute are not, and the next
// record after the minute counts them; a dropped presence is never
// recorded; another recipient has its own record.
func TestRefusalsAudited(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec := &audittest.Recorder{}
	r := router.New(jid.MustParse("capulet.lit"), nil, nil)
	r.SetRemote(imtest.NewRemote(t))
	New(Options{Blocked: []jid.JID{jid.MustParse("evil.lit")}, Audit: rec, Now: func() time.Time { return now }}).Register(r)
	juliet := imtest.Bind(t, r, "juliet@capulet.lit/balcony")
	send := func(to string, n int) {
		for i := range n {
			r.Route(ctx, imtest.Parse(t, `<message type='chat' id='m`+strconv.Itoa(i)+`' from='juliet@capulet.lit/balcony' to='`+to+`'><body>x</body></message>`))
		}
	}
	send("a@evil.lit", 5)
	r.Route(ctx, imtest.Parse(t, `<presence from='juliet@capulet.lit/balcony' to='a@evil.lit'/>`))
	send("b@evil.lit/r", 1)
	now = now.Add(time.Minute)
	send("a@evil.lit", 1)
	if n := len(juliet.Take()); n != 7 {
		t.Errorf("%d errors to juliet, want 7", n)
	}
	var got []string
	for _, r := range rec.Records() {
		got = append(got, fmt.Sprintf("%s %s>%s %s %v", r.Action, r.Actor, r.Target, r.Outcome, r.Details))
	}
	want := []string{
		"policy juliet@capulet.lit>a@evil.lit denied map[condition:not-allowed policy:server-blocklist stanza:message type:chat]",
		"policy juliet@capulet.lit>b@evil.lit denied map[condition:not-allowed policy:server-blocklist stanza:message type:chat]",
		"policy juliet@capulet.lit>a@evil.lit denied map[condition:not-allowed policy:server-blocklist stanza:message type:chat unrecorded:4]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
