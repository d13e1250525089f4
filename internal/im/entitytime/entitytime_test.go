package entitytime

import (
	"strconv"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
)

// TestHandle: XEP-0202 §3's example time, 17:58:35 UTC on 2006-12-19 in a
// zone six hours behind, and the errors.
func TestHandle(t *testing.T) {
	at := time.Date(2006, 12, 19, 11, 58, 35, 0, time.FixedZone("CST", -6*3600))
	m := New(Options{Clock: clock.NewFake(at)})
	m.Register(router.New(jid.MustParse("example.com"), imtest.Accounts{}, nil))
	tests := []struct {
		iq  string
		err *stanza.Error
	}{
		0: {iq: `<iq type='get' to='example.com' from='juliet@example.com/balcony' id='t'><time xmlns='urn:xmpp:time'/></iq>`},
		1: {iq: `<iq type='set' to='example.com' from='juliet@example.com/balcony' id='t'><time xmlns='urn:xmpp:time'/></iq>`, err: stanza.ErrNotAllowed},
		2: {iq: `<iq type='get' to='romeo@example.com' from='juliet@example.com/balcony' id='t'><time xmlns='urn:xmpp:time'/></iq>`, err: stanza.ErrServiceUnavailable},
		3: {iq: `<iq type='get' to='example.com' from='juliet@example.com/balcony' id='t'><date xmlns='urn:xmpp:time'/></iq>`, err: stanza.ErrBadRequest},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			res, ok := imtest.Handle(t, m.Handle, tc.iq, tc.err)
			if !ok {
				return
			}
			if res.ChildText("tzo", NS) != "-06:00" || res.ChildText("utc", NS) != "2006-12-19T17:58:35Z" {
				t.Fatalf("got %v", res)
			}
		})
	}
}
