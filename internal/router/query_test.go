package router_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmpptest"
)

// waitQuery waits until s was sent an IQ and returns it.
func waitQuery(t *testing.T, s *imtest.Session) *stanza.Stanza {
	t.Helper()
	var st *stanza.Stanza
	xmpptest.Eventually(t, 5*time.Second, func() error {
		got := s.Take()
		if len(got) == 0 {
			return errors.New("no query arrived")
		}
		st = got[0]
		return nil
	})
	return st
}

// TestQuery: the server asks a session and gets its answer; an answer
// from anyone else, or to an id nobody waits for, is ignored.
func TestQuery(t *testing.T) {
	r, sessions, _ := setup(t)
	romeo := sessions["romeo@example.com/orchard"]
	ctx := context.Background()
	type answer struct {
		st  *stanza.Stanza
		err error
	}
	done := make(chan answer, 1)
	go func() {
		q := stanza.New(stanza.IQ, jid.JID{}, romeo.JID(), "get", "")
		q.El.Children = append(q.El.Children, parse(t, `<iq type='get' id='x'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`).Payload())
		st, err := r.Query(ctx, q)
		done <- answer{st, err}
	}()
	q := waitQuery(t, romeo)
	if q.From.String() != "example.com" || q.Type != "get" || q.ID == "" {
		t.Fatalf("query: %s", q.El)
	}
	// Juliet forges the answer (RFC 6120 §8.2.3: only the entity asked
	// answers): ignored. So is an answer to an id nobody waits for.
	r.Route(ctx, parse(t, `<iq from='juliet@example.com/balcony' to='example.com' type='result' id='`+q.ID+`'/>`))
	r.Route(ctx, parse(t, `<iq from='romeo@example.com/orchard' to='example.com' type='result' id='other'/>`))
	select {
	case a := <-done:
		t.Fatalf("answered early: %v %v", a.st, a.err)
	case <-time.After(20 * time.Millisecond):
	}
	r.Route(ctx, parse(t, `<iq from='romeo@example.com/orchard' to='example.com' type='result' id='`+q.ID+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`))
	a := <-done
	if a.err != nil || a.st.Type != "result" || a.st.Payload() == nil {
		t.Fatalf("answer: %v %v", a.st, a.err)
	}
	if n := r.Outstanding(); n != 0 {
		t.Fatalf("%d queries outstanding", n)
	}
}

// TestQueryErrors: a session that is gone gets the router's bounce as the
// answer; one that never answers times out, and nothing stays pending.
func TestQueryErrors(t *testing.T) {
	r, sessions, _ := setup(t)
	ctx := context.Background()
	q := stanza.New(stanza.IQ, jid.JID{}, jid.MustParse("romeo@example.com/gone"), "get", "")
	q.El.Children = append(q.El.Children, parse(t, `<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>`).Payload())
	st, err := r.Query(ctx, q)
	if err != nil || st.Type != "error" || !strings.Contains(st.El.String(), "service-unavailable") {
		t.Fatalf("query to a gone session: %v %v", st, err)
	}

	q.SetTo(sessions["romeo@example.com/orchard"].JID())
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := r.Query(short, q); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unanswered query: %v", err)
	}
	if n := r.Outstanding(); n != 0 {
		t.Fatalf("%d queries outstanding after the timeout", n)
	}
}
