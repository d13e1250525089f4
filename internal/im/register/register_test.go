package register

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

func newModule(t *testing.T) (*Module, *imtest.Users, *router.Router) {
	users := imtest.NewUsers()
	r := router.New(jid.MustParse("example.com"), users, nil)
	m := New(Options{Users: users, PerIP: 2, Window: time.Hour})
	m.router = r
	return m, users, r
}

// verifies reports whether keys were derived from password.
func verifies(t *testing.T, h sasl.Hash, k store.ScramKeys, password string) bool {
	t.Helper()
	d, err := sasl.DeriveKeys(h, password, k.Salt, k.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(d.StoredKey, k.StoredKey) && bytes.Equal(d.ServerKey, k.ServerKey)
}

func reg(user, pass string) string {
	return `<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>` + user + `</username><password>` + pass + `</password></query></iq>`
}

func TestPreAuthForm(t *testing.T) {
	m, _, _ := newModule(t)
	res, err := m.PreAuth(context.Background(), imtest.Parse(t, `<iq type='get' id='g'><query xmlns='jabber:iq:register'/></iq>`), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Children {
		names = append(names, c.Name)
	}
	if res.Space != NS || !slices.Equal(names, []string{"instructions", "username", "password"}) || res.ChildText("instructions", NS) == "" {
		t.Errorf("form: %s", xmlstream.Append(nil, res))
	}
}

func TestPreAuthRegister(t *testing.T) {
	tests := []struct {
		iq   string
		ip   string
		err  *stanza.Error
		user string // the account that must then exist
	}{
		0: {iq: reg("Juliet", "R0m30!"), ip: "192.0.2.1", user: "juliet"}, // PRECIS case-maps
		1: {iq: reg("romeo", "x"), ip: "192.0.2.1", err: stanza.ErrConflict},
		2: {iq: reg("", "secret"), ip: "192.0.2.1", err: stanza.ErrNotAcceptable},
		3: {iq: reg("nurse", ""), ip: "192.0.2.1", err: stanza.ErrNotAcceptable},
		4: {iq: `<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>nurse</username></query></iq>`, ip: "192.0.2.1", err: stanza.ErrNotAcceptable},
		5: {iq: reg("nurse@home", "secret"), ip: "192.0.2.1", err: stanza.ErrJIDMalformed},
		6: {iq: reg("nurse", "bad\u0085password"), ip: "192.0.2.1", err: stanza.ErrNotAcceptable},
		7: {iq: `<iq type='set' id='r'><query xmlns='jabber:iq:register'><remove/></query></iq>`, ip: "192.0.2.1", err: stanza.ErrUnexpectedRequest},
		8: {iq: `<iq type='set' id='r'><register xmlns='jabber:iq:register'/></iq>`, ip: "192.0.2.1", err: stanza.ErrBadRequest},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			m, users, _ := newModule(t)
			users.Put(store.User{Username: "romeo"})
			iq := imtest.Parse(t, tc.iq)
			_, err := m.PreAuth(context.Background(), iq, tc.ip)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if reply := stanza.ErrorReply(iq, tc.err); strings.Contains(string(reply.Bytes()), "password") {
					t.Errorf("error reply echoes the password: %s", reply.Bytes())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u, err := users.GetUser(context.Background(), tc.user)
			if err != nil {
				t.Fatalf("account %q not created: %v", tc.user, err)
			}
			if !verifies(t, sasl.SHA1, u.SHA1, "R0m30!") || !verifies(t, sasl.SHA256, u.SHA256, "R0m30!") {
				t.Error("stored keys do not verify the password")
			}
			if u.Created.IsZero() {
				t.Error("no creation time")
			}
		})
	}
}

// TestRateLimit: two registrations per address and hour here; IPv6 hosts
// count per /64; waiting out the window helps; conflicts cost nothing.
func TestRateLimit(t *testing.T) {
	m, users, _ := newModule(t)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	users.Put(store.User{Username: "taken"})
	ctx := context.Background()
	steps := []struct {
		user, ip string
		advance  time.Duration
		err      *stanza.Error
	}{
		0:  {user: "a1", ip: "192.0.2.1"},
		1:  {user: "taken", ip: "192.0.2.1", err: stanza.ErrConflict},
		2:  {user: "a2", ip: "192.0.2.1"},
		3:  {user: "a3", ip: "192.0.2.1", err: stanza.ErrResourceConstraint},
		4:  {user: "b1", ip: "192.0.2.2"},
		5:  {user: "c1", ip: "2001:db8:0:1::1"},
		6:  {user: "c2", ip: "2001:db8:0:1::ffff"},
		7:  {user: "c3", ip: "2001:db8:0:1:abcd::1", err: stanza.ErrResourceConstraint}, // same /64
		8:  {user: "d1", ip: "2001:db8:0:2::1"},                                         // another /64
		9:  {user: "a4", ip: "192.0.2.1", advance: 30 * time.Minute, err: stanza.ErrResourceConstraint},
		10: {user: "a5", ip: "192.0.2.1", advance: 31 * time.Minute},
		11: {user: "e1", ip: "[2001:db8:0:3::1]:5222"}, // with a port
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		_, err := m.PreAuth(ctx, imtest.Parse(t, reg(s.user, "pw")), s.ip)
		if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
			t.Fatalf("step %d (%s from %s): err = %v, want %v", i, s.user, s.ip, err, s.err)
		}
	}
	m.limit.mu.Lock()
	defer m.limit.mu.Unlock()
	if _, ok := m.limit.hits["192.0.2.2"]; ok {
		t.Error("an address idle for over a window was not pruned")
	}
}

func TestChangePassword(t *testing.T) {
	tests := []struct {
		iq  string
		err string // condition of the error reply; "" for a result
	}{
		0: {iq: `<iq type='set' id='c' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><username>juliet</username><password>new</password></query></iq>`},
		1: {iq: `<iq type='set' id='c' to='example.com' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><username>JULIET</username><password>new</password></query></iq>`},
		2: {iq: `<iq type='set' id='c' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><username>romeo</username><password>new</password></query></iq>`, err: "forbidden"},
		3: {iq: `<iq type='set' id='c' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><username>juliet</username><password/></query></iq>`, err: "bad-request"},
		4: {iq: `<iq type='set' id='c' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><password>new</password></query></iq>`, err: "bad-request"},
		5: {iq: `<iq type='set' id='c' to='romeo@example.com' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><username>juliet</username><password>new</password></query></iq>`, err: "forbidden"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			m, users, r := newModule(t)
			m.Register(r)
			old, err := sasl.NewKeys(sasl.SHA256, "old", sasl.DefaultIterations)
			if err != nil {
				t.Fatal(err)
			}
			users.Put(store.User{Username: "juliet", SHA256: old})
			users.Put(store.User{Username: "romeo"})
			s := imtest.Bind(t, r, "juliet@example.com/b")
			r.Route(context.Background(), imtest.Parse(t, tc.iq))
			got := s.Take()
			if len(got) != 1 {
				t.Fatalf("session got %d stanzas, want one reply", len(got))
			}
			reply := got[0]
			u, _ := users.User("juliet")
			if tc.err == "" {
				if reply.Type != "result" || !verifies(t, sasl.SHA256, u.SHA256, "new") || !verifies(t, sasl.SHA1, u.SHA1, "new") {
					t.Errorf("reply %s; keys changed: %v", reply.Bytes(), !bytes.Equal(u.SHA256.StoredKey, old.StoredKey))
				}
				return
			}
			e := reply.El.Child("error", "")
			if reply.Type != "error" || e == nil || e.Child(tc.err, stanza.NSStanzas) == nil {
				t.Errorf("reply %s, want %s", reply.Bytes(), tc.err)
			}
			if bytes.Contains(reply.Bytes(), []byte("new")) {
				t.Errorf("error reply echoes the password (XEP-0077 §3.3): %s", reply.Bytes())
			}
			if !bytes.Equal(u.SHA256.StoredKey, old.StoredKey) {
				t.Error("a refused change changed the keys")
			}
		})
	}
}

func TestRegisteredGet(t *testing.T) {
	m, _, _ := newModule(t)
	res, err := m.HandleIQ(context.Background(), imtest.Parse(t, `<iq type='get' id='g' from='juliet@example.com/b'><query xmlns='jabber:iq:register'/></iq>`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Child("registered", NS) == nil || res.ChildText("username", NS) != "juliet" || res.ChildText("password", NS) != "" {
		t.Errorf("got %s", xmlstream.Append(nil, res))
	}
}

// TestRemove: the account goes, the requester gets its result, and only
// then is every session of the user ended with <not-authorized/>.
func TestRemove(t *testing.T) {
	m, users, r := newModule(t)
	m.Register(r)
	var removed []string
	m.OnRemove = func(u string) { removed = append(removed, u) }
	users.Put(store.User{Username: "juliet"})
	users.Put(store.User{Username: "romeo"})
	b := imtest.NewSession(t, "juliet@example.com/b")
	c := imtest.NewSession(t, "juliet@example.com/c")
	o := imtest.NewSession(t, "romeo@example.com/o")
	for _, s := range []*imtest.Session{b, c, o} {
		r.Bind(s)
	}
	r.Route(context.Background(), imtest.Parse(t, `<iq type='set' id='x' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><remove/></query></iq>`))
	if _, ok := users.User("juliet"); ok {
		t.Error("account still there")
	}
	if _, ok := users.User("romeo"); !ok {
		t.Error("another account went too")
	}
	if !slices.Equal(removed, []string{"juliet"}) {
		t.Errorf("OnRemove got %q", removed)
	}
	// A session takes nothing once ended, so the requester has its
	// result only if it was sent before the end.
	if got := b.Take(); len(got) != 1 || got[0].Type != "result" || b.Ended() != "not-authorized" {
		t.Errorf("requester got %v, ended %q; want the result, then not-authorized", got, b.Ended())
	}
	if got := c.Take(); len(got) != 0 || c.Ended() != "not-authorized" {
		t.Errorf("other session got %v, ended %q; want only not-authorized", got, c.Ended())
	}
	if got := o.Take(); len(got) != 0 || o.Ended() != "" {
		t.Errorf("romeo got %v, ended %q", got, o.Ended())
	}

	// <remove/> must be alone (XEP-0077 §3.2).
	_, err := m.HandleIQ(context.Background(), imtest.Parse(t, `<iq type='set' id='x' from='romeo@example.com/o'><query xmlns='jabber:iq:register'><remove/><username>romeo</username></query></iq>`))
	if !errors.Is(err, stanza.ErrBadRequest) {
		t.Errorf("err = %v", err)
	}
}

func TestAddrKey(t *testing.T) {
	tests := []struct{ in, want string }{
		0: {"192.0.2.1", "192.0.2.1"},
		1: {"::ffff:192.0.2.1", "192.0.2.1"},
		2: {"2001:db8::1", "2001:db8::/64"},
		3: {"[2001:db8::1]:5222", "2001:db8::/64"},
		4: {"192.0.2.1:5222", "192.0.2.1"},
		5: {"fe80::1%eth0", "fe80::/64"},
		6: {"not an address", "not an address"},
	}
	for i, tc := range tests {
		if got := addrKey(tc.in); got != tc.want {
			t.Errorf("%d: addrKey(%q) = %q, want %q", i, tc.in, got, tc.want)
		}
	}
}
