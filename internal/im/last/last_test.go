package last

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
)

// rosters maps "user contact" (bare JIDs) to a subscription state.
type rosters map[string]string

func (r rosters) Item(_ context.Context, user, contact jid.JID) (store.RosterItem, bool, error) {
	sub, ok := r[user.String()+" "+contact.Bare().String()]
	return store.RosterItem{JID: contact.Bare().String(), Subscription: sub}, ok, nil
}

// TestLastActivity follows XEP-0012: the server's uptime (§5), an
// account's logout 903 s ago with its status "Heading Home" (§3), 0 while
// it is online, and forbidden to whom may not see its presence.
func TestLastActivity(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	r := router.New(jid.MustParse("capulet.com"), imtest.Accounts{"juliet": true, "nurse": true}, nil)
	m := New(Options{Clock: clk, Roster: rosters{
		"juliet@capulet.com romeo@montague.net":    store.SubFrom,
		"juliet@capulet.com tybalt@capulet.com":    store.SubTo,
		"juliet@capulet.com benvolio@montague.net": store.SubBoth,
	}})
	m.Register(r)
	ctx := context.Background()

	s := imtest.Available(t, r, "juliet@capulet.com/balcony", 0, []byte("<presence/>"))
	clk.Advance(100 * time.Second)
	ask := func(from, to string) (string, string, error) {
		t.Helper()
		attr := ""
		if to != "" {
			attr = ` to='` + to + `'`
		}
		res, err := m.Handle(ctx, imtest.Parse(t, `<iq type='get' from='`+from+`'`+attr+` id='l'><query xmlns='jabber:iq:last'/></iq>`))
		if err != nil {
			return "", "", err
		}
		return res.Get("seconds"), res.Text, nil
	}
	if sec, _, err := ask("romeo@montague.net/orchard", "capulet.com"); err != nil || sec != "100" {
		t.Fatalf("uptime: %s %v", sec, err)
	}
	if sec, _, err := ask("romeo@montague.net/orchard", "juliet@capulet.com"); err != nil || sec != "0" {
		t.Fatalf("online: %s %v", sec, err)
	}
	r.Route(ctx, imtest.Parse(t, `<presence type='unavailable' from='juliet@capulet.com/balcony'><status>Heading Home</status></presence>`))
	r.Unbind(ctx, s)
	clk.Advance(903 * time.Second)

	tests := []struct {
		from, to, seconds, status string
		err                       *stanza.Error
	}{
		0: {from: "romeo@montague.net/orchard", to: "juliet@capulet.com", seconds: "903", status: "Heading Home"},
		1: {from: "benvolio@montague.net/x", to: "juliet@capulet.com", seconds: "903", status: "Heading Home"},
		2: {from: "juliet@capulet.com/phone", seconds: "903", status: "Heading Home"}, // own account, no 'to'
		3: {from: "juliet@capulet.com/phone", to: "juliet@capulet.com", seconds: "903", status: "Heading Home"},
		4: {from: "tybalt@capulet.com/x", to: "juliet@capulet.com", err: stanza.ErrForbidden}, // only 'to'
		5: {from: "paris@verona.lit/x", to: "juliet@capulet.com", err: stanza.ErrForbidden},
		6: {from: "nurse@capulet.com/x", to: "nurse@capulet.com", err: stanza.ErrItemNotFound}, // never logged out
		7: {from: "romeo@montague.net/orchard", to: "capulet.com", seconds: "1003"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			sec, status, err := ask(tc.from, tc.to)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || sec != tc.seconds || status != tc.status {
				t.Fatalf("got %s %q %v", sec, status, err)
			}
		})
	}
	set := imtest.Parse(t, `<iq type='set' from='romeo@montague.net/orchard' to='juliet@capulet.com' id='l'><query xmlns='jabber:iq:last'/></iq>`)
	if _, err := m.Handle(ctx, set); !errors.Is(err, stanza.ErrNotAllowed) {
		t.Fatalf("set: %v", err)
	}

	// A session that ends without a status, after available presence
	// cleared the old one, leaves no status.
	s2 := imtest.Bind(t, r, "juliet@capulet.com/garden")
	r.Route(ctx, imtest.Parse(t, `<presence type='unavailable' from='juliet@capulet.com/garden'><status>brb</status></presence>`))
	r.Route(ctx, imtest.Parse(t, `<presence from='juliet@capulet.com/garden'/>`))
	r.Unbind(ctx, s2)
	clk.Advance(5 * time.Second)
	if sec, status, err := ask("romeo@montague.net/orchard", "juliet@capulet.com"); err != nil || sec != "5" || status != "" {
		t.Fatalf("second logout: %s %q %v", sec, status, err)
	}
	// A status beyond MaxStatus is kept cut, on a character boundary.
	s3 := imtest.Bind(t, r, "juliet@capulet.com/attic")
	long := "a" + strings.Repeat("é", MaxStatus) // 2 bytes each: byte MaxStatus is inside one
	r.Route(ctx, imtest.Parse(t, `<presence type='unavailable' from='juliet@capulet.com/attic'><status>`+long+`</status></presence>`))
	r.Unbind(ctx, s3)
	if _, status, err := ask("romeo@montague.net/orchard", "juliet@capulet.com"); err != nil || status != long[:MaxStatus-1] {
		t.Fatalf("long status: %d bytes, %v", len(status), err)
	}
	if len(m.leaving) != 0 {
		t.Fatalf("statuses of ended sessions kept: %v", m.leaving)
	}
}
