package pep

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/im/presence"
	"parley/internal/im/roster"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmpptest"
)

const devices = "eu.siacs.conversations.axolotl.devicelist"

type env struct {
	r       *router.Router
	m       *Module
	rosters *imtest.Rosters
}

func newEnv(t *testing.T) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "bob": true}, log)
	rosters := imtest.NewRosters()
	for _, p := range [][2]string{{"alice", "bob@example.com"}, {"bob", "alice@example.com"}} {
		if _, err := rosters.PutRosterItem(context.Background(), p[0], store.RosterItem{JID: p[1], Subscription: store.SubBoth}); err != nil {
			t.Fatal(err)
		}
	}
	rm := roster.New(roster.Options{Store: rosters})
	rm.Register(r)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []string{"alice", "bob"} {
		if err := st.CreateUser(context.Background(), store.User{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	m := New(Options{Store: st, Roster: rm, Log: log})
	m.Register(r)
	t.Cleanup(m.Close)
	pres := presence.New(presence.Options{Roster: rm, Log: log})
	pres.OnAvailable, pres.OnUnavailable, pres.OnRemote = m.Available, m.Unavailable, m.RemotePresence
	pres.Register(r)
	return &env{r: r, m: m, rosters: rosters}
}

func (e *env) bind(t *testing.T, full string) *imtest.Session {
	s := imtest.NewSession(t, full)
	e.r.Bind(s)
	return s
}

func (e *env) send(t *testing.T, s *imtest.Session, xml string) {
	t.Helper()
	st := imtest.Parse(t, xml)
	st.SetFrom(s.JID())
	e.r.Route(context.Background(), st)
}

// caps is a client's disco#info and the <c/> that announces it.
func caps(features ...string) (query, c string) {
	slices.Sort(features)
	s := "client/phone//test<"
	query = `<query xmlns='http://jabber.org/protocol/disco#info' node='urn:test#VER'><identity category='client' type='phone' name='test'/>`
	for _, f := range features {
		s += f + "<"
		query += `<feature var='` + f + `'/>`
	}
	sum := sha1.Sum([]byte(s))
	ver := base64.StdEncoding.EncodeToString(sum[:])
	query = strings.Replace(query+`</query>`, "VER", ver, 1)
	return query, `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:test' ver='` + ver + `'/>`
}

// await waits for a session to be sent a stanza that match accepts.
func await(t *testing.T, s *imtest.Session, match func(*stanza.Stanza) bool) *stanza.Stanza {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, st := range s.Take() {
			if match(st) {
				return st
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s got nothing that matches", s.JID())
	return nil
}

// announceCaps sends available presence with the caps element c from s,
// answers the server's disco#info lookup of them with query, and waits
// for the lookup to end: the answer is checked, the ver cached and the
// last items sent in the service's own goroutine, and a presence the
// test sends next must find the ver known, not join the lookup.
func (e *env) announceCaps(t *testing.T, s *imtest.Session, c, query string) {
	t.Helper()
	e.send(t, s, `<presence xmlns='jabber:client'>`+c+`</presence>`)
	q := await(t, s, isDisco)
	e.send(t, s, `<iq xmlns='jabber:client' type='result' to='example.com' id='`+q.ID+`'>`+query+`</iq>`)
	e.m.wg.Wait()
}

func isDisco(st *stanza.Stanza) bool {
	return st.Kind == stanza.IQ && st.Type == "get" && st.El.Child("query", NSDiscoInfo) != nil
}

// events returns the items nodes of the notifications a session got.
func events(s *imtest.Session) []string {
	var out []string
	for _, st := range s.Take() {
		if ev := st.El.Child("event", NSEvent); ev != nil {
			out = append(out, ev.FirstChild().Get("node")+" "+ev.String())
		}
	}
	return out
}

func publish(t *testing.T, e *env, s *imtest.Session, node, id string) {
	t.Helper()
	e.send(t, s, `<iq xmlns='jabber:client' type='set' id='p'><pubsub xmlns='`+NS+`'><publish node='`+node+`'><item id='`+id+`'><list xmlns='eu.siacs.conversations.axolotl'><device id='`+id+`'/></list></item></publish></pubsub></iq>`)
	got := s.Take()
	if !slices.ContainsFunc(got, func(st *stanza.Stanza) bool { return st.Kind == stanza.IQ && st.Type == "result" }) {
		t.Fatalf("publish: %v", got)
	}
	for _, st := range got { // keep what else it got for the caller
		if st.Kind != stanza.IQ {
			s.Send(st.Bytes())
		}
	}
}

// TestFilteredNotifications: XEP-0163 §4.2-4.3. A session's caps are
// verified once by disco#info and then cached for everyone; only
// sessions whose caps include node+notify get notifications, including
// the owner's own; a newly available one gets the last item, once.
func TestFilteredNotifications(t *testing.T) {
	e := newEnv(t)
	query, c := caps("http://jabber.org/protocol/disco#info", devices, devices+"+notify")
	_, cOther := caps("urn:other+notify")
	a1 := e.bind(t, "alice@example.com/one")
	a2 := e.bind(t, "alice@example.com/two")
	b1 := e.bind(t, "bob@example.com/b")
	b2 := e.bind(t, "bob@example.com/c")

	e.send(t, a2, `<presence xmlns='jabber:client'/>`) // no caps
	publish(t, e, a2, devices, "1")
	if got := events(a2); len(got) != 0 {
		t.Fatalf("a session without caps got %q", got)
	}

	// Bob's session announces unknown caps: the server asks it, it
	// answers, the caps verify and it gets alice's last device list.
	e.send(t, b1, `<presence xmlns='jabber:client'>`+c+`</presence>`)
	q := await(t, b1, isDisco)
	if q.From.String() != "example.com" || !strings.HasPrefix(q.El.Child("query", NSDiscoInfo).Get("node"), "urn:test#") {
		t.Fatalf("disco query %s", q.El)
	}
	e.send(t, b1, `<iq xmlns='jabber:client' type='result' to='example.com' id='`+q.ID+`'>`+query+`</iq>`)
	last := await(t, b1, func(st *stanza.Stanza) bool { return st.El.Child("event", NSEvent) != nil })
	if !strings.Contains(last.El.String(), "<device id='1'/>") || last.From.String() != "alice@example.com" {
		t.Fatalf("last item: %s", last.El)
	}
	if e.m.caps.len() != 1 {
		t.Fatalf("caps cached: %d", e.m.caps.len())
	}

	// Alice's session with the same caps: no query, the last item of
	// her own node at once. A session without +notify for it: nothing.
	e.send(t, a1, `<presence xmlns='jabber:client'>`+c+`</presence>`)
	got := a1.Take()
	if slices.ContainsFunc(got, isDisco) || !strings.Contains(imtest.Stanzas(got).String(), "<device id='1'/>") {
		t.Fatalf("alice/one got %s", imtest.Stanzas(got))
	}
	e.announceCaps(t, b2, cOther, strings.Replace(query, devices+"+notify", "urn:other+notify", 1))

	// A presence update with the same caps sends nothing again.
	e.send(t, b1, `<presence xmlns='jabber:client'><show>away</show>`+c+`</presence>`)
	if got := events(b1); len(got) != 0 {
		t.Fatalf("last item resent on a presence update: %q", got)
	}

	publish(t, e, a2, devices, "2")
	for _, s := range []*imtest.Session{a1, b1} {
		if got := events(s); len(got) != 1 || !strings.Contains(got[0], "<device id='2'/>") {
			t.Errorf("%s got %q", s.JID(), got)
		}
	}
	for _, s := range []*imtest.Session{a2, b2} {
		if got := events(s); len(got) != 0 {
			t.Errorf("%s (not interested) got %q", s.JID(), got)
		}
	}
	// Whitelist nodes reach the owner's interested resources only.
	e.send(t, a2, `<iq xmlns='jabber:client' type='set' id='w'><pubsub xmlns='`+NS+`'><publish node='`+devices+`x'><item id='1'><x xmlns='x'/></item></publish></pubsub></iq>`)
	if got := events(b1); len(got) != 0 {
		t.Errorf("bob got a node he did not ask for: %q", got)
	}
}

// TestBadCaps: a ver the answer does not hash to is not cached and the
// session gets no notifications; a query never answered times out and
// leaves nothing behind.
func TestBadCaps(t *testing.T) {
	e := newEnv(t)
	e.m.DiscoTimeout = 50 * time.Millisecond
	query, c := caps(devices + "+notify")
	a := e.bind(t, "alice@example.com/one")
	b := e.bind(t, "bob@example.com/b")

	forged := strings.Replace(c, "ver='", "ver='AAAA", 1)
	e.announceCaps(t, a, forged, query)

	e.send(t, b, `<presence xmlns='jabber:client'>`+c+`</presence>`)
	await(t, b, isDisco) // never answered

	deadline := time.Now().Add(5 * time.Second)
	for e.r.Outstanding() > 0 || e.discovering() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still pending: %d queries, %d discoveries", e.r.Outstanding(), e.discovering())
		}
		time.Sleep(time.Millisecond)
	}
	if n := e.m.caps.len(); n != 0 {
		t.Fatalf("%d caps cached", n)
	}
	publish(t, e, a, devices, "1")
	if got := append(events(a), events(b)...); len(got) != 0 {
		t.Errorf("sessions with unverified caps got %q", got)
	}
}

func (e *env) discovering() int {
	e.m.interests.mu.Lock()
	defer e.m.interests.mu.Unlock()
	return len(e.m.interests.waiting)
}

// TestBlockedGetsNoEvents: neither notifications nor last items reach a
// contact the owner has blocked, nor one who blocked the owner
// (XEP-0163 §4.3.3, XEP-0191 §3.3).
func TestBlockedGetsNoEvents(t *testing.T) {
	for _, blocker := range []string{"alice", "bob"} {
		t.Run(blocker+" blocks", func(t *testing.T) {
			e := newEnv(t)
			var blocking atomic.Bool
			blocking.Store(true)
			e.m.Blocks = func(_ context.Context, user string, j jid.JID) (bool, error) {
				other := map[string]string{"alice": "bob@example.com", "bob": "alice@example.com"}[user]
				return blocking.Load() && user == blocker && j.Bare().String() == other, nil
			}
			query, c := caps("http://jabber.org/protocol/disco#info", devices, devices+"+notify")
			a := e.bind(t, "alice@example.com/one")
			b := e.bind(t, "bob@example.com/b")
			e.send(t, a, `<presence xmlns='jabber:client'/>`)
			publish(t, e, a, devices, "1")

			e.announceCaps(t, b, c, query)
			publish(t, e, a, devices, "2")
			if got := events(b); len(got) != 0 {
				t.Fatalf("a blocked contact got %q", got)
			}
			blocking.Store(false)
			publish(t, e, a, devices, "3")
			if got := events(b); len(got) != 1 || !strings.Contains(got[0], "<device id='3'/>") {
				t.Fatalf("after unblocking bob got %q", got)
			}
		})
	}
}

// publishDuringRead publishes (once) while the first last-item read is
// under way, and waits up to a moment for the publish to finish.
type publishDuringRead struct {
	Store
	once atomic.Pointer[func()]
}

func (s *publishDuringRead) PEPItems(ctx context.Context, user, node string, ids []string, max int) ([]store.PEPItem, error) {
	items, err := s.Store.PEPItems(ctx, user, node, ids, max)
	if f := s.once.Swap(nil); f != nil {
		(*f)()
	}
	return items, err
}

// TestLastItemNotOvertaken: a publish that lands while a session's last
// item is being read reaches the session after that item, so the newest
// item is the last one the session sees (an OMEMO device list must not
// go back in time).
func TestLastItemNotOvertaken(t *testing.T) {
	e := newEnv(t)
	hook := &publishDuringRead{Store: e.m.store}
	e.m.store = hook
	query, c := caps("http://jabber.org/protocol/disco#info", devices, devices+"+notify")
	a := e.bind(t, "alice@example.com/one")
	pub := e.bind(t, "alice@example.com/two")
	b := e.bind(t, "bob@example.com/b")
	e.send(t, pub, `<presence xmlns='jabber:client'/>`)
	publish(t, e, pub, devices, "1")

	// Learn the caps through alice's first session, so bob's presence
	// below finds them cached and reads the last item on its own path.
	e.announceCaps(t, a, c, query)
	await(t, a, func(st *stanza.Stanza) bool { return st.El.Child("event", NSEvent) != nil })

	second := imtest.Parse(t, `<iq xmlns='jabber:client' type='set' id='p2'><pubsub xmlns='`+NS+`'><publish node='`+devices+
		`'><item id='2'><list xmlns='eu.siacs.conversations.axolotl'><device id='2'/></list></item></publish></pubsub></iq>`)
	second.SetFrom(pub.JID())
	publishNow := func() {
		done := make(chan struct{})
		go func() {
			e.r.Route(context.Background(), second)
			close(done)
		}()
		// The publish must be waiting for the owner's lock that this read
		// holds before the read goes on.
		xmpptest.Eventually(t, 5*time.Second, func() error {
			select {
			case <-done:
				return nil // it did not need the lock
			default:
			}
			if !waitingForOwnerLock() {
				return errors.New("the publish does not wait for the owner's lock")
			}
			return nil
		})
	}
	hook.once.Store(&publishNow)
	e.send(t, b, `<presence xmlns='jabber:client'>`+c+`</presence>`)

	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		got = append(got, events(b)...)
		time.Sleep(time.Millisecond)
	}
	if len(got) != 2 || !strings.Contains(got[1], "<device id='2'/>") {
		t.Fatalf("bob got %q, want the last item then the newer one", got)
	}
}

// TestDiscoveryShares: issue 10 item 9. An account whose sessions
// advertise ever new caps and never answer holds at most
// AccountDiscoveries lookups; other accounts' clients are still asked at
// once, past the global bound they wait in a queue and are asked when a
// place frees, and a session whose ver was not looked up is when it sends
// its caps again.
func TestDiscoveryShares(t *testing.T) {
	e := newEnv(t)
	// No lookup times out within the test: each ends when the test
	// answers it, so that no place frees before the checks that count
	// them, however slowly the test runs.
	e.m.DiscoTimeout = time.Hour
	e.m.limits.Discoveries, e.m.limits.AccountDiscoveries = 3, 2
	var flood []*imtest.Session
	for i := range 5 {
		s := e.bind(t, "bob@example.com/"+strconv.Itoa(i))
		_, c := caps("urn:flood:" + strconv.Itoa(i) + "+notify")
		e.send(t, s, `<presence xmlns='jabber:client'>`+c+`</presence>`)
		flood = append(flood, s)
	}
	if n, owed := e.discovering(), e.owed("bob"); n != 2 || owed != 2 {
		t.Fatalf("bob's 5 vers: %d discovering, %d owed; want 2, 2", n, owed)
	}
	a1 := e.bind(t, "alice@example.com/one")
	_, c1 := caps("urn:one+notify")
	e.send(t, a1, `<presence xmlns='jabber:client'>`+c1+`</presence>`)
	q1 := await(t, a1, isDisco) // a place was left for alice

	a2 := e.bind(t, "alice@example.com/two")
	_, c2 := caps("urn:two+notify")
	e.send(t, a2, `<presence xmlns='jabber:client'>`+c2+`</presence>`)
	if got := a2.Take(); slices.ContainsFunc(got, isDisco) {
		t.Fatal("asked beyond Discoveries")
	}
	// Bob's first lookup fails (his client answers with an error): its
	// place goes to alice's queued ver.
	refuse := func(s *imtest.Session, q *stanza.Stanza) {
		t.Helper()
		e.send(t, s, `<iq xmlns='jabber:client' type='error' to='example.com' id='`+q.ID+`'><error type='cancel'>`+
			`<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`)
	}
	refuse(flood[0], await(t, flood[0], isDisco))
	q2 := await(t, a2, isDisco) // queued, asked once a place freed

	refuse(flood[1], await(t, flood[1], isDisco))
	refuse(a1, q1)
	refuse(a2, q2)
	deadline := time.Now().Add(5 * time.Second)
	for e.discovering() > 0 || e.owed("bob") > 0 || e.owed("alice") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still pending: %d discoveries", e.discovering())
		}
		time.Sleep(time.Millisecond)
	}
	// Bob's third session was never asked; its caps again are.
	flood[2].Take()
	_, c := caps("urn:flood:2+notify")
	e.send(t, flood[2], `<presence xmlns='jabber:client'><show>away</show>`+c+`</presence>`)
	await(t, flood[2], isDisco)
}

func (e *env) owed(account string) int {
	e.m.interests.mu.Lock()
	defer e.m.interests.mu.Unlock()
	return e.m.interests.owed[account]
}

// TestSessionEndedForgetsInterests: a session's caps interests are
// dropped when it ends, closed or replaced on the same resource (router
// SessionEnded), not left for later.
func TestSessionEndedForgetsInterests(t *testing.T) {
	for i, replaced := range []bool{false, true} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			a := e.bind(t, "alice@example.com/one")
			e.send(t, a, `<presence xmlns='jabber:client'/>`) // no caps: known at once
			if e.interested() != 1 {
				t.Fatalf("%d sessions with interests", e.interested())
			}
			if replaced {
				e.bind(t, "alice@example.com/one")
			} else {
				e.r.Unbind(context.Background(), a)
			}
			if n := e.interested(); n != 0 {
				t.Errorf("interests of %d sessions kept after the end", n)
			}
		})
	}
}

func (e *env) interested() int {
	e.m.interests.mu.Lock()
	defer e.m.interests.mu.Unlock()
	return len(e.m.interests.sessions)
}

// waitingForOwnerLock reports whether some goroutine is blocked in
// lockOwner's mutex (read from the goroutines' stacks, so the test knows
// the race it sets up is real without sleeping).
func waitingForOwnerLock() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "lockSlow") && strings.Contains(g, "pep.(*Module).lockOwner") {
			return true
		}
	}
	return false
}
