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
