package c2s_test

import (
	"sync"
	"testing"

	"parley/internal/c2s"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/c2stest"
)

// TestOnAuth: a failed and a successful login over a stream each reach
// Config.OnAuth with the mechanism, account, address and condition (the
// audit log's login and login-failed records).
func TestOnAuth(t *testing.T) {
	var mu sync.Mutex
	var events []c2s.AuthEvent
	srv := c2stest.Start(t, func(c *c2s.Config) {
		c.OnAuth = func(e c2s.AuthEvent) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	})
	srv.AddUser(t, "alice", "pw-alice")
	if _, err := srv.Dial(t, xmpptest.Options{User: "alice", Password: "guess"}); authCondition(err) != "not-authorized" {
		t.Fatalf("wrong password: %v", err)
	}
	srv.Login(t, "alice", "pw-alice", "")
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 {
		t.Fatalf("events %+v, want 2", events)
	}
	for i, want := range []struct {
		cond string
		ok   bool
	}{{"not-authorized", false}, {"", true}} {
		e := events[i]
		if e.Username != "alice" || e.Mechanism == "" || e.IP == "" || e.Transport == "" || e.Condition != want.cond || e.Success() != want.ok {
			t.Errorf("event %d = %+v, want condition %q", i, e, want.cond)
		}
	}
}
