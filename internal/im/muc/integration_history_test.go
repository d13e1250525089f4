package muc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestHistoryAfterRestartOverTCP: a persistent room serves history on
// join (XEP-0045 §7.2.15: maxstanzas, maxchars, seconds, since) from its
// archive, so it survives a restart of the server.
func TestHistoryAfterRestartOverTCP(t *testing.T) {
	srv := start(t, nil, "alice", "carol", "dave")
	alice := dial(t, srv, "alice")
	persistentRoom(t, alice, "alice")
	said := []string{"When shall we three meet again", "In thunder, lightning, or in rain?", "When the hurlyburly's done"}
	for _, b := range said {
		send(t, alice, "<message type='groupchat' to='"+room+"'><body>"+b+"</body></message>")
		expect(t, alice, "echo", groupchat("alice", b))
	}
	xmpptest.Eventually(t, wait, func() error {
		got, err := archivedInRoom(t, alice, "with", room+"/alice")
		if err != nil || len(got) != len(said) {
			return fmt.Errorf("archived %d of %d: %v", len(got), len(said), err)
		}
		return nil
	})
	beforeRestart := time.Now().UTC()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	data := srv.Config.Data
	srv2 := testserver.Start(t, func(c *config.Config) { c.Data = data })

	// history joins a user with a <history/> request and returns the
	// bodies of the history it got, before the subject that ends it.
	history := func(c *xmpptest.Client, nick, attrs string) []string {
		t.Helper()
		send(t, c, "<presence to='"+room+"/"+nick+"'><x xmlns='"+muc.NS+"'><history "+attrs+"/></x></presence>")
		expect(t, c, nick+"'s self-presence", selfPresence(nick, ""))
		var bodies []string
		for {
			el := expect(t, c, "history or subject", func(el *xmlstream.Element) bool {
				return el.Name == "message" && el.Get("type") == "groupchat"
			})
			if el.Child("subject", "") != nil {
				return bodies
			}
			if d := el.Child("delay", muc.NSDelay); d == nil || d.Get("from") != room || el.Get("from") != room+"/alice" {
				t.Fatalf("history message without the room's delay: %s", el)
			}
			bodies = append(bodies, el.ChildText("body", ""))
		}
	}
	carol := dial(t, srv2, "carol")
	if got := history(carol, "carol", "maxstanzas='2'"); fmt.Sprint(got) != fmt.Sprint(said[1:]) {
		t.Fatalf("maxstanzas=2 after a restart: %q", got)
	}
	dave := dial(t, srv2, "dave")
	if got := history(dave, "dave", "seconds='3600'"); fmt.Sprint(got) != fmt.Sprint(said) {
		t.Fatalf("seconds=3600 after a restart: %q", got)
	}
	send(t, dave, "<presence type='unavailable' to='"+room+"/dave'/>")
	expect(t, dave, "dave's exit", selfPresence("dave", "unavailable"))
	since := beforeRestart.Add(time.Second).Format(time.RFC3339)
	if got := history(dave, "dave", "since='"+since+"'"); len(got) != 0 {
		t.Fatalf("since after the last message: %q", got)
	}
}
