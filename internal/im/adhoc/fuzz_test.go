package adhoc

import (
	"context"
	"errors"
	"testing"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// FuzzCommand: whatever <command/> a client sends, in whatever order of
// requests, Handle answers a <command/> with a status or a stanza error,
// never panics, and keeps at most MaxSessions sessions for the user.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		`<command xmlns='http://jabber.org/protocol/commands' node='config' action='execute'/>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='config'><x xmlns='jabber:x:data' type='submit'><field var='service'><value>httpd</value></field></x></command>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='config' action='prev' sessionid='x'/>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='one' action='complete'/>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='list' action='cancel'/>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='config' action='bogus'><x xmlns='jabber:x:data' type='nope'/></command>`,
	} {
		f.Add([]byte(s), []byte(`<command xmlns='http://jabber.org/protocol/commands' node='config' action='next'/>`))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		m := newModule(t, nil, 2)
		var lastID string
		for _, b := range [][]byte{first, second, first} {
			el, err := xmlstream.Parse(b, xmlstream.Limits{})
			if err != nil {
				return
			}
			if lastID != "" && el.Get("sessionid") == "" {
				el.Set("sessionid", lastID) // continue the session the first request opened
			}
			iq := stanza.New(stanza.IQ, jid.MustParse(user), jid.MustParse("example.com"), "set", "f")
			iq.AddChild(el)
			res, err := m.Handle(context.Background(), iq)
			if err != nil {
				var se *stanza.Error
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not a stanza error", err)
				}
				continue
			}
			switch Status(res.Get("status")) {
			case Executing, Completed, Canceled:
			default:
				t.Fatalf("result without a status: %s", res)
			}
			lastID = res.Get("sessionid")
		}
		if n := m.Sessions(); n > 2 {
			t.Fatalf("%d sessions, limit 2", n)
		}
	})
}
