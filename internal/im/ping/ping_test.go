package ping

import (
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/router"
	"parley/internal/stanza"
)

func TestHandle(t *testing.T) {
	tests := []imtest.XMLCase{
		0: {IQ: `<iq type='get' to='example.com' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`},
		1: {IQ: `<iq type='get' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`},
		2: {IQ: `<iq type='get' to='b@example.com' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`},
		3: {IQ: `<iq type='set' to='example.com' from='a@example.com/r' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`,
			Err: stanza.ErrNotAllowed},
		4: {IQ: `<iq type='get' to='example.com' from='a@example.com/r' id='1'><pong xmlns='urn:xmpp:ping'/></iq>`,
			Err: stanza.ErrBadRequest},
	}
	imtest.RunXML(t, tests, func() router.IQHandler { return Handle })
}
