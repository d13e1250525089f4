package s2s

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/internal/stanza"
	"parley/internal/xmpptest"
)

// TestSetPolicy: a reloaded deny-list applies at once: our outbound link
// to a newly denied domain is closed and new stanzas refused; a peer
// that denies us now ends our stream at its next stanza, and that stanza
// comes back to the sender with an error rather than vanishing.
func TestSetPolicy(t *testing.T) {
	a, b, _ := pair(t)
	send := func(body string) error {
		return a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", body))
	}
	send("one")
	if got := b.r.next(t); got.El.ChildText("body", stanza.NSClient) != "one" {
		t.Fatalf("b got %s", got.Bytes())
	}
	a.svc.SetPolicy(nil, []string{"b.test"})
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if a.link("b.test") != nil {
			return fmt.Errorf("link to a denied domain still up")
		}
		return nil
	})
	if err := send("denied"); err == nil {
		t.Fatal("stanza to a denied domain accepted")
	}
	a.svc.SetPolicy(nil, nil)
	send("two")
	if got := b.r.next(t); got.El.ChildText("body", stanza.NSClient) != "two" {
		t.Fatalf("b got %s", got.Bytes())
	}

	b.svc.SetPolicy(nil, []string{"a.test"})
	send("three")
	got := a.r.next(t)
	if got.Type != "error" || got.To.String() != "alice@a.test/x" || !strings.Contains(string(got.Bytes()), "remote-server-") {
		t.Fatalf("a got %s", got.Bytes())
	}
	b.r.none(t, "b, from a denied domain")
}
