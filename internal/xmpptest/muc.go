package xmpptest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/xmlstream"
)

// MUC namespaces (XEP-0045).
const (
	NSMUC     = "http://jabber.org/protocol/muc"
	NSMUCUser = "http://jabber.org/protocol/muc#user"
)

// JoinRoom enters room (a room's bare JID) as nick (XEP-0045 §7.2.1):
// it sends presence to room/nick with the MUC <x/>, holding children
// (<history/>, <password/>) if any, and returns the client's own presence
// in the room, the one with status code 110 (§7.2.2), which says its
// role, affiliation and whether the room was created (201). The room may
// change the nick (§7.2.9, status 210), so the self-presence is taken from
// any occupant JID of room. A presence error from room/nick ends the wait
// with that stanza and an error naming its conditions.
func (c *Client) JoinRoom(timeout time.Duration, room, nick string, children ...string) (*xmlstream.Element, error) {
	occupant := room + "/" + nick
	err := c.Send("<presence to='" + xmlEscape(occupant) + "'><x xmlns='" + NSMUC + "'>" + strings.Join(children, "") + "</x></presence>")
	if err != nil {
		return nil, err
	}
	el, err := c.Expect(timeout, func(el *xmlstream.Element) bool {
		if el.Name != "presence" {
			return false
		}
		if el.Get("type") == "error" {
			return el.Get("from") == occupant
		}
		bare, _, _ := strings.Cut(el.Get("from"), "/")
		return bare == room && el.Get("type") == "" && HasStatus(el, "110")
	})
	if err != nil {
		return nil, fmt.Errorf("joining %s: %w", occupant, err)
	}
	if el.Get("type") == "error" {
		return el, fmt.Errorf("joining %s: refused: %s", occupant, ErrorConditions(el))
	}
	return el, nil
}

// HasStatus reports whether a MUC presence or message carries the status
// code in its muc#user <x/> (XEP-0045 §15.6.2).
func HasStatus(el *xmlstream.Element, code string) bool {
	x := el.Child("x", NSMUCUser)
	return x != nil && slices.ContainsFunc(x.Children, func(s *xmlstream.Element) bool {
		return s.Name == "status" && s.Get("code") == code
	})
}

// MustJoinRoom is JoinRoom that fails the test when the room did not
// take the client in within timeout.
func MustJoinRoom(tb testing.TB, c *Client, timeout time.Duration, room, nick string, children ...string) *xmlstream.Element {
	tb.Helper()
	el, err := c.JoinRoom(timeout, room, nick, children...)
	if err != nil {
		tb.Fatalf("%s: %v", c.JID, err)
	}
	return el
}
