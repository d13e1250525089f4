package router_test

import (
	"strconv"
	"testing"

	"parley/internal/router"
)

func TestMentions(t *testing.T) {
	tests := []struct {
		body, nick string
		want       bool
	}{
		0: {"alice: lunch?", "alice", true},
		1: {"Lunch, Alice?", "alice", true},
		2: {"malice everywhere", "alice", false},
		3: {"alice_2 is not alice", "alice", true},
		4: {"alice_2 only", "alice", false},
		5: {"hello", "", false},
		6: {"@Zoë look", "zoë", true},
		7: {"zoëx", "zoë", false},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := router.Mentions(tc.body, tc.nick); got != tc.want {
				t.Fatalf("Mentions(%q, %q) = %v", tc.body, tc.nick, got)
			}
		})
	}
}

// TestNotable lists what a user away from their clients hears of.
func TestNotable(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		0: {"<message to='alice@example.com' type='chat'><body>hi</body></message>", true},
		1: {"<message to='alice@example.com'><body>hi</body></message>", true},
		2: {"<message to='alice@example.com' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>", false},
		3: {"<message to='alice@example.com' type='chat'><received xmlns='urn:xmpp:receipts' id='x'/></message>", false},
		4: {"<message to='alice@example.com' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='c'/></message>", true},
		5: {"<message to='alice@example.com' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>", true},
		6: {"<message to='alice@example.com/phone' type='groupchat'><body>lunch?</body></message>", false},
		7: {"<message to='alice@example.com/phone' type='groupchat'><body>Alice: lunch?</body></message>", true},
		8: {"<message to='alice@example.com/phone' type='groupchat'><body>malice everywhere</body></message>", false},
		9: {"<message to='alice@example.com' type='headline'><body>news</body></message>", false},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := router.Notable(parse(t, tc.msg), "alice"); got != tc.want {
				t.Fatalf("Notable = %v, want %v", got, tc.want)
			}
		})
	}
}
