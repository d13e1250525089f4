package ping

import (
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/stanza"
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
			res, ok := imtest.Handle(t, Handle, tc.iq, tc.err)
			if !ok {
				return
			}
			if res != nil {
				t.Fatalf("got %v; want an empty result", res)
			}
		})
	}
}
