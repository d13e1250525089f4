package presence_test

import (
	"strconv"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait     = 10 * time.Second
	password = "presence pass 1"
)

// TestDirectedPresenceLimitOverTCP: a session that sends directed
// presence to more entities than quotas.directed_presence allows has the
// ones beyond refused with policy-violation, so what the server remembers
// of it (and owes as unavailable presence at its end, RFC 6121 §4.6.3)
// stops at the limit; unavailable presence frees a place, and the
// entities remembered are told when the session ends.
func TestDirectedPresenceLimitOverTCP(t *testing.T) {
	const max = 20
	srv := testserver.Start(t, func(c *config.Config) { c.Quotas.DirectedPresence = max })
	srv.AddUsers(t, password, "mallory", "bob")
	bob := srv.Online(t, "bob", password, "desk")
	m := srv.Online(t, "mallory", password, "flood")

	// Fill the session's places, then go on past them.
	for i := range 5 * max {
		if err := m.Send(`<presence id='d` + strconv.Itoa(i) + `' to='nobody` + strconv.Itoa(i) + `@localhost'/>`); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Send(`<presence id='early' to='bob@localhost/desk'/>`); err != nil {
		t.Fatal(err)
	}
	// Presence is handled in order: once the ping is answered, every
	// refusal has been sent.
	if res, err := m.IQ(wait, "get", "localhost", `<ping xmlns='urn:xmpp:ping'/>`); err != nil || res.Get("type") != "result" {
		t.Fatalf("ping: %v %v", err, res)
	}
	refused := map[string]bool{}
	for {
		el, err := m.Expect(time.Millisecond, func(el *xmlstream.Element) bool {
			return el.Name == "presence" && el.Get("type") == "error"
		})
		if err != nil {
			break
		}
		if c := xmpptest.StanzaErrorCondition(el); c != "policy-violation" {
			t.Errorf("refusal %s: condition %q", el.Get("id"), c)
		}
		refused[el.Get("id")] = true
	}
	if len(refused) != 4*max+1 || !refused["early"] || refused["d"+strconv.Itoa(max-1)] || !refused["d"+strconv.Itoa(max)] {
		t.Fatalf("%d refused (want the %d beyond the first %d and bob's): %v", len(refused), 4*max+1, max, refused)
	}

	// Unavailable presence to one remembered entity frees its place.
	if err := m.Send(`<presence type='unavailable' to='nobody0@localhost'/><presence id='later' to='bob@localhost/desk'/>`); err != nil {
		t.Fatal(err)
	}
	got, err := bob.Expect(wait, xmpptest.Stanza("presence", "", "mallory@localhost/flood"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("id") != "later" {
		t.Fatalf("bob got %s first, want the presence sent after a place was freed", got.Get("id"))
	}
	m.Close()
	if _, err := bob.Expect(wait, xmpptest.Stanza("presence", "unavailable", "mallory@localhost/flood")); err != nil {
		t.Fatalf("no unavailable presence at the session's end: %v", err)
	}
}
