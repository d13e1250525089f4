package c2s_test

import (
	"errors"
	"testing"
	"time"

	"parley/internal/c2s"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/c2stest"
)

// Over a stream: three wrong guesses at alice and a successful login to
// the attacker's own account from the same address do not reset alice's
// counter: the fourth wrong guess is answered only after the per-account
// delay has passed on the server's clock (issue 9 item 12).
func TestAuthBackoffSurvivesOtherAccountsSuccess(t *testing.T) {
	srv := c2stest.Start(t, func(c *c2s.Config) { c.FreeAuthFailures = 3 })
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "mallory", "pw-mallory")
	wrong := xmpptest.Options{User: "alice", Password: "guess"}
	for i := range 3 {
		if _, err := srv.Dial(t, wrong); authCondition(err) != "not-authorized" {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	srv.Login(t, "mallory", "pw-mallory", "")
	timers := srv.Clock.Pending() // the sweeper's
	answered := make(chan error, 1)
	go func() {
		_, err := srv.Dial(t, wrong)
		answered <- err
	}()
	// The answer waits on a timer of the server's clock.
	xmpptest.Eventually(t, wait, func() error {
		if srv.Clock.Pending() <= timers {
			select {
			case err := <-answered:
				t.Fatalf("the fourth guess was answered at once: %v", err)
			default:
			}
			return errors.New("no back-off timer")
		}
		return nil
	})
	srv.Clock.Advance(250 * time.Millisecond)
	select {
	case err := <-answered:
		if authCondition(err) != "not-authorized" {
			t.Fatalf("fourth guess: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("the fourth guess was not answered after the delay")
	}
}

func authCondition(err error) string {
	var ae *xmpptest.AuthError
	if errors.As(err, &ae) {
		return ae.Condition
	}
	return ""
}
