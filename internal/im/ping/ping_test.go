package ping

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

func TestHandle(t *testing.T) {
	tests := []struct {
		iq  string
		err *stanza.Error
	}{
		0: {iq: `<iq type='get' to='example.com' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`},
		1: {iq: `<iq type='get' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`},
		2: {iq: `<iq type='get' to='b@example.com' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`},
		3: {iq: `<iq type='set' to='example.com' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`,
			err: stanza.ErrNotAllowed},
		4: {iq: `<iq type='get' to='example.com' from='a@example.com/r' id='1'><pong xmlns='urn:xmpp:ping'/></iq>`,
			err: stanza.ErrBadRequest},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			el, err := xmlstream.ParseIn([]byte(tc.iq), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
			if err != nil {
				t.Fatal(err)
			}
			st, err := stanza.Parse(el)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Handle(context.Background(), st)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || res != nil {
				t.Fatalf("got %v, %v; want an empty result", res, err)
			}
		})
	}
}
