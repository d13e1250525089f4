package vcard

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// memStore is store.VCards in memory, keyed by username.
type memStore struct{ *imtest.Blobs }

func newMemStore(m map[string][]byte) memStore { return memStore{imtest.NewBlobs(m)} }

func (s memStore) VCard(_ context.Context, u string) ([]byte, error) { return s.Get(u) }

func (s memStore) SetVCard(_ context.Context, u string, v []byte) error {
	s.Put(u, v)
	return nil
}

const fnRomeo = `<vCard xmlns='vcard-temp'><FN>Romeo</FN></vCard>`

func TestHandle(t *testing.T) {
	big := `<vCard xmlns='vcard-temp'><DESC>` + strings.Repeat("x", 200) + `</DESC></vCard>`
	tests := []imtest.XMLCase{
		0: { // own, none stored: empty vCard (XEP-0054 §3.1)
			IQ:   `<iq type='get' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`,
			Want: `<vCard xmlns='vcard-temp'/>`,
		},
		1: { // another user's stored vCard, read by anyone
			IQ:   `<iq type='get' to='romeo@example.com' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`,
			Want: fnRomeo,
		},
		2: { // from another server too: vCards are public
			IQ:   `<iq type='get' to='romeo@example.com' from='x@remote.org/r' id='1'><vCard xmlns='vcard-temp'/></iq>`,
			Want: fnRomeo,
		},
		3: { // another user without a vCard: an error (XEP-0054 §3.3)
			IQ:  `<iq type='get' to='nobody@example.com' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`,
			Err: stanza.ErrItemNotFound,
		},
		4: { // the own bare JID as 'to' is the own vCard
			IQ:   `<iq type='get' to='romeo@example.com' from='romeo@example.com/r' id='1'><vCard xmlns='vcard-temp'/></iq>`,
			Want: fnRomeo,
		},
		5: { // set someone else's
			IQ:  `<iq type='set' to='romeo@example.com' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'><FN>Evil</FN></vCard></iq>`,
			Err: stanza.ErrForbidden,
		},
		6: { // a remote user cannot set a local vCard
			IQ:  `<iq type='set' to='romeo@example.com' from='romeo@remote.org/b' id='1'><vCard xmlns='vcard-temp'><FN>Evil</FN></vCard></iq>`,
			Err: stanza.ErrForbidden,
		},
		7: { // over the size limit
			IQ:  `<iq type='set' from='juliet@example.com/b' id='1'>` + big + `</iq>`,
			Err: stanza.ErrPolicyViolation,
		},
		8: { // the server's own vCard does not exist
			IQ:  `<iq type='get' to='example.com' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`,
			Err: stanza.ErrItemNotFound,
		},
		9: {
			IQ:  `<iq type='get' from='juliet@example.com/b' id='1'><vcard xmlns='vcard-temp'/></iq>`,
			Err: stanza.ErrBadRequest,
		},
	}
	imtest.RunXML(t, tests, func() router.IQHandler {
		st := newMemStore(map[string][]byte{"romeo": []byte(fnRomeo)})
		return New(Options{Store: st, Domain: jid.MustParse("example.com"), MaxSize: 150}).Handle
	})
}

// TestSetThenGet stores a vCard written with a prefix bound on the <iq/>
// and checks that what comes back stands alone and keeps its content.
func TestSetThenGet(t *testing.T) {
	st := newMemStore(nil)
	m := New(Options{Store: st, Domain: jid.MustParse("example.com")})
	ctx := context.Background()
	set := imtest.Parse(t, `<iq type='set' id='1' from='juliet@example.com/b' xmlns:v='vcard-temp'><v:vCard><v:FN>Juliet</v:FN><v:NICKNAME>J</v:NICKNAME></v:vCard></iq>`)
	if res, err := m.Handle(ctx, set); err != nil || res != nil {
		t.Fatalf("set: %v, %v", res, err)
	}
	for i, get := range []string{
		0: `<iq type='get' id='2' from='juliet@example.com/other'><vCard xmlns='vcard-temp'/></iq>`,
		1: `<iq type='get' id='2' to='juliet@example.com' from='romeo@example.com/r'><vCard xmlns='vcard-temp'/></iq>`,
	} {
		res, err := m.Handle(ctx, imtest.Parse(t, get))
		if err != nil {
			t.Fatalf("%d: get: %v", i, err)
		}
		back := imtest.Reparse(t, res)
		if back.Space != NS || back.ChildText("FN", NS) != "Juliet" || back.ChildText("NICKNAME", NS) != "J" {
			t.Errorf("%d: got %s", i, xmlstream.Append(nil, back))
		}
	}
}

// TestCorruptStore: a stored row that is not a vCard is an internal error,
// never bytes written into the reader's stream.
func TestCorruptStore(t *testing.T) {
	for i, raw := range []string{`<vCard xmlns='vcard-temp'>`, `<other xmlns='vcard-temp'/>`} {
		st := newMemStore(map[string][]byte{"romeo": []byte(raw)})
		m := New(Options{Store: st, Domain: jid.MustParse("example.com")})
		_, err := m.Handle(context.Background(), imtest.Parse(t,
			`<iq type='get' to='romeo@example.com' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`))
		var se *stanza.Error
		if err == nil || errors.As(err, &se) {
			t.Errorf("%d: err = %v, want an internal (non-stanza) error", i, err)
		}
	}
}

// TestFallback: a user without a stored vCard gets the fallback's (a
// directory's); a stored one wins; no fallback keeps XEP-0054 §3.3.
func TestFallback(t *testing.T) {
	st := newMemStore(map[string][]byte{"romeo": []byte(fnRomeo)})
	m := New(Options{Store: st, Domain: jid.MustParse("example.com"),
		Fallback: func(_ context.Context, user string) *xmlstream.Element {
			if user == "nobody" {
				return nil
			}
			return xmlstream.New("vCard", NS).Add(xmlstream.NewText("FN", NS, "Dir "+user))
		}})
	for i, tc := range []struct {
		to, want string
		err      *stanza.Error
	}{
		0: {to: "alice@example.com", want: `<vCard xmlns='vcard-temp'><FN>Dir alice</FN></vCard>`},
		1: {to: "romeo@example.com", want: fnRomeo},
		2: {to: "nobody@example.com", err: stanza.ErrItemNotFound},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			res, ok := imtest.Handle(t, m.Handle, `<iq type='get' to='`+tc.to+`' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`, tc.err)
			if !ok {
				return
			}
			if got := string(xmlstream.AppendIn(nil, res, stanza.NSClient)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestBotMarked: a bot account's vCard carries KIND application (issue
// 15), whether it stored one, stored one with another KIND, or none; a
// person's vCard is served as stored.
func TestBotMarked(t *testing.T) {
	st := newMemStore(map[string][]byte{
		"helper": []byte(`<vCard xmlns='vcard-temp'><FN>Helper</FN></vCard>`),
		"liar":   []byte(`<vCard xmlns='vcard-temp'><KIND>individual</KIND><FN>Liar</FN></vCard>`),
		"romeo":  []byte(fnRomeo),
	})
	bots := map[string]bool{"helper": true, "liar": true, "bare": true}
	m := New(Options{Store: st, Domain: jid.MustParse("example.com"),
		Bot: func(_ context.Context, user string) bool { return bots[user] }})
	for i, tc := range []struct{ to, want string }{
		0: {to: "helper@example.com", want: `<vCard xmlns='vcard-temp'><FN>Helper</FN><KIND>application</KIND></vCard>`},
		1: {to: "liar@example.com", want: `<vCard xmlns='vcard-temp'><FN>Liar</FN><KIND>application</KIND></vCard>`},
		2: {to: "bare@example.com", want: `<vCard xmlns='vcard-temp'><KIND>application</KIND></vCard>`},
		3: {to: "romeo@example.com", want: fnRomeo},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			res, ok := imtest.Handle(t, m.Handle, `<iq type='get' to='`+tc.to+`' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`, nil)
			if !ok {
				return
			}
			if got := string(xmlstream.AppendIn(nil, res, stanza.NSClient)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// A person without a vCard still has none.
	imtest.Handle(t, m.Handle, `<iq type='get' to='nobody@example.com' from='juliet@example.com/b' id='1'><vCard xmlns='vcard-temp'/></iq>`, stanza.ErrItemNotFound)
}
