package private

import (
	"context"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// memStore is store.PrivateXML in memory, keyed "user\x00key".
type memStore struct{ *imtest.Blobs }

func newMemStore(m map[string][]byte) memStore { return memStore{imtest.NewBlobs(m)} }

func (s memStore) PrivateXML(_ context.Context, u, k string) ([]byte, error) {
	return s.Get(u + "\x00" + k)
}

func (s memStore) SetPrivateXML(_ context.Context, u, k string, v []byte) error {
	s.Put(u+"\x00"+k, v)
	return nil
}

func (s memStore) PrivateXMLSizes(_ context.Context, u string) (map[string]int, error) {
	return s.Sizes(u + "\x00"), nil
}

const bookmarks = `<storage xmlns='storage:bookmarks'><conference jid='r@muc.example.com'/></storage>`

func TestHandle(t *testing.T) {
	const own = `from='juliet@example.com/b' id='1'`
	tests := []imtest.XMLCase{
		0: { // stored data comes back
			IQ:   `<iq type='get' ` + own + `><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
			Want: `<query xmlns='jabber:iq:private'>` + bookmarks + `</query>`,
		},
		1: { // nothing stored: the empty element asked for
			IQ:   `<iq type='get' ` + own + `><query xmlns='jabber:iq:private'><prefs xmlns='exodus:prefs'/></query></iq>`,
			Want: `<query xmlns='jabber:iq:private'><prefs xmlns='exodus:prefs'/></query>`,
		},
		2: { // the key is name and namespace: same namespace, other name
			IQ:   `<iq type='get' ` + own + `><query xmlns='jabber:iq:private'><other xmlns='storage:bookmarks'/></query></iq>`,
			Want: `<query xmlns='jabber:iq:private'><other xmlns='storage:bookmarks'/></query>`,
		},
		3: { // the own bare JID as 'to'
			IQ:   `<iq type='get' to='juliet@example.com' ` + own + `><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
			Want: `<query xmlns='jabber:iq:private'>` + bookmarks + `</query>`,
		},
		4: { // someone else's
			IQ:  `<iq type='get' to='romeo@example.com' ` + own + `><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
			Err: stanza.ErrForbidden,
		},
		5: {
			IQ:  `<iq type='set' to='romeo@example.com' ` + own + `><query xmlns='jabber:iq:private'>` + bookmarks + `</query></iq>`,
			Err: stanza.ErrForbidden,
		},
		6: { // no child element (XEP-0049 §2.3)
			IQ:  `<iq type='get' ` + own + `><query xmlns='jabber:iq:private'/></iq>`,
			Err: stanza.ErrNotAcceptable,
		},
		7: { // reserved namespaces
			IQ:  `<iq type='set' ` + own + `><query xmlns='jabber:iq:private'><vCard xmlns='vcard-temp'/></query></iq>`,
			Err: stanza.ErrNotAcceptable,
		},
		8: {
			IQ:  `<iq type='get' ` + own + `><query xmlns='jabber:iq:private'><query xmlns='jabber:iq:roster'/></query></iq>`,
			Err: stanza.ErrNotAcceptable,
		},
		9: {
			IQ:  `<iq type='get' ` + own + `><query xmlns='jabber:iq:private'><x xmlns='http://jabber.org/protocol/muc'/></query></iq>`,
			Err: stanza.ErrNotAcceptable,
		},
		10: { // a child in no namespace of its own inherits jabber:iq:private
			IQ:  `<iq type='set' ` + own + `><query xmlns='jabber:iq:private'><prefs/></query></iq>`,
			Err: stanza.ErrNotAcceptable,
		},
		11: { // a get asks for one element
			IQ:  `<iq type='get' ` + own + `><query xmlns='jabber:iq:private'><a xmlns='x:a'/><b xmlns='x:b'/></query></iq>`,
			Err: stanza.ErrBadRequest,
		},
		12: { // too big
			IQ:  `<iq type='set' ` + own + `><query xmlns='jabber:iq:private'><big xmlns='x:big'>0123456789012345678901234567890123456789012345678901234567890123456789</big></query></iq>`,
			Err: stanza.ErrPolicyViolation,
		},
		13: { // a remote user
			IQ:  `<iq type='get' to='juliet@example.com' from='juliet@remote.org/b' id='1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
			Err: stanza.ErrForbidden,
		},
		14: {
			IQ:  `<iq type='get' ` + own + `><store xmlns='jabber:iq:private'/></iq>`,
			Err: stanza.ErrBadRequest,
		},
	}
	imtest.RunXML(t, tests, func() router.IQHandler {
		st := newMemStore(map[string][]byte{"juliet\x00storage storage:bookmarks": []byte(bookmarks)})
		return New(Options{Store: st, Domain: jid.MustParse("example.com"), MaxSize: 90}).Handle
	})
}

// TestSetThenGet stores two fragments in one set (XEP-0049 §2.3 allows
// several) and reads each back on its own.
func TestSetThenGet(t *testing.T) {
	st := newMemStore(nil)
	m := New(Options{Store: st, Domain: jid.MustParse("example.com")})
	ctx := context.Background()
	set := imtest.Parse(t, `<iq type='set' id='1' from='juliet@example.com/b'><query xmlns='jabber:iq:private' xmlns:n='storage:rosternotes'>`+
		`<exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus><n:storage><n:note jid='a@b'>hi</n:note></n:storage></query></iq>`)
	if res, err := m.Handle(ctx, set); err != nil || res != nil {
		t.Fatalf("set: %v, %v", res, err)
	}
	tests := []struct{ ask, child, text string }{
		0: {`<exodus xmlns='exodus:prefs'/>`, "defaultnick", "Hamlet"},
		1: {`<storage xmlns='storage:rosternotes'/>`, "note", "hi"},
	}
	for i, tc := range tests {
		res, err := m.Handle(ctx, imtest.Parse(t, `<iq type='get' id='2' from='juliet@example.com/c'><query xmlns='jabber:iq:private'>`+tc.ask+`</query></iq>`))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		// The reply must stand alone once serialised (the prefix bound on
		// the set's <query/> is not there any more).
		frag := imtest.Reparse(t, res).FirstChild()
		if frag == nil || frag.ChildText(tc.child, frag.Space) != tc.text {
			t.Errorf("%d: got %s", i, xmlstream.Append(nil, res))
		}
	}
}
