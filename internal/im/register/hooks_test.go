package register

import (
	"context"
	"fmt"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/store"
)

// TestHooks: OnCreate and OnPasswordChange see exactly the changes made
// (for the audit log), refused requests not at all.
func TestHooks(t *testing.T) {
	m, users, r := newModule(t)
	m.Register(r)
	var seen []string
	m.OnCreate = func(u, ip string) { seen = append(seen, "create "+u+" "+ip) }
	m.OnPasswordChange = func(u string) { seen = append(seen, "passwd "+u) }
	users.Put(store.User{Username: "romeo"})
	ctx := context.Background()
	m.PreAuth(ctx, imtest.Parse(t, reg("Juliet", "pw")), "192.0.2.1")
	m.PreAuth(ctx, imtest.Parse(t, reg("romeo", "pw")), "192.0.2.1") // conflict
	imtest.Bind(t, r, "juliet@example.com/b")
	r.Route(ctx, imtest.Parse(t, `<iq type='set' id='c' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><username>juliet</username><password>new</password></query></iq>`))
	r.Route(ctx, imtest.Parse(t, `<iq type='set' id='d' from='juliet@example.com/b'><query xmlns='jabber:iq:register'><username>romeo</username><password>new</password></query></iq>`))
	if got := fmt.Sprint(seen); got != "[create juliet 192.0.2.1 passwd juliet]" {
		t.Fatalf("hooks saw %s", got)
	}
}
