package version

import (
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
)

func TestHandle(t *testing.T) {
	m := New(Options{Version: "1.2.3"})
	m.Register(router.New(jid.MustParse("example.com"), nil, nil))
	tests := []struct {
		iq  string
		err *stanza.Error
	}{
		0: {iq: `<iq type='get' to='example.com' from='a@example.com/r' id='1'><query xmlns='jabber:iq:version'/></iq>`},
		1: {iq: `<iq type='get' to='example.com' from='remote.org' id='1'><query xmlns='jabber:iq:version'/></iq>`},
		2: {iq: `<iq type='get' to='b@example.com' from='a@example.com/r' id='1'><query xmlns='jabber:iq:version'/></iq>`,
			err: stanza.ErrServiceUnavailable},
		3: {iq: `<iq type='get' from='a@example.com/r' id='1'><query xmlns='jabber:iq:version'/></iq>`,
			err: stanza.ErrServiceUnavailable},
		4: {iq: `<iq type='set' to='example.com' from='a@example.com/r' id='1'><query xmlns='jabber:iq:version'/></iq>`,
			err: stanza.ErrNotAllowed},
		5: {iq: `<iq type='get' to='example.com' from='a@example.com/r' id='1'><version xmlns='jabber:iq:version'/></iq>`,
			err: stanza.ErrBadRequest},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			res, ok := imtest.Handle(t, m.Handle, tc.iq, tc.err)
			if !ok {
				return
			}
			if res.Name != "query" || res.Space != NS {
				t.Fatalf("result <%s xmlns='%s'>", res.Name, res.Space)
			}
			if got := res.ChildText("name", NS); got != "parley" {
				t.Errorf("name = %q", got)
			}
			if got := res.ChildText("version", NS); got != "1.2.3" {
				t.Errorf("version = %q", got)
			}
			if res.Child("os", "") != nil {
				t.Error("<os/> must not be sent")
			}
		})
	}
}
