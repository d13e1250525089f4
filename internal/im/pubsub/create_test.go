package pubsub

import (
	"context"
	"strconv"
	"testing"

	"parley/internal/jid"
	"parley/internal/stanza"
)

type domainOnly struct{ d jid.JID }

func (s domainOnly) Send(context.Context, *stanza.Stanza) {}
func (s domainOnly) Domain() jid.JID                      { return s.d }

// TestCreatePolicy: §8.1.3.1 — who may create nodes.
func TestCreatePolicy(t *testing.T) {
	tests := []struct {
		policy, from string
		ok           bool
	}{
		0: {"", "hamlet@localhost/elsinore", true}, // local by default
		1: {"", "fortinbras@norway.example/army", false},
		2: {CreateLocal, "fortinbras@norway.example/army", false},
		3: {CreateAnyone, "fortinbras@norway.example/army", true},
		4: {CreateLocal, "localhost", true},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			m := New(Options{Create: tc.policy})
			m.router = domainOnly{jid.MustParse("localhost")}
			err := m.mayCreate(jid.MustParse(tc.from))
			if (err == nil) != tc.ok {
				t.Fatalf("mayCreate(%s) under %q = %v", tc.from, tc.policy, err)
			}
			if err != nil && err.(*stanza.Error).Condition() != "forbidden" {
				t.Fatalf("refusal %v, want forbidden", err)
			}
		})
	}
}
