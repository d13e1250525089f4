package disco

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

type features []string

func (f features) Features() []string { return f }

// summary flattens a result into "identity:category/type" and "feature:var"
// or "item:jid/name" strings, in document order.
func summary(el *xmlstream.Element) []string {
	var out []string
	for _, c := range el.Children {
		switch c.Name {
		case "identity":
			out = append(out, "identity:"+c.Get("category")+"/"+c.Get("type"))
		case "feature":
			out = append(out, "feature:"+c.Get("var"))
		case "item":
			out = append(out, "item:"+c.Get("jid")+"/"+c.Get("name"))
		}
	}
	return out
}

func TestDisco(t *testing.T) {
	m := New(Options{Domain: jid.MustParse("example.com"), Features: features{"urn:xmpp:ping", "vcard-temp", "urn:xmpp:ping", NSInfo}})
	m.AddItem(jid.MustParse("conference.example.com"), "Chatrooms")
	m.AddItem(jid.MustParse("upload.example.com"), "")
	m.AddItem(jid.MustParse("conference.example.com"), "Rooms") // replaces the name
	m.AddAccountFeature("urn:xmpp:mam:2")
	m.AddAccountIdentity("pubsub", "pep")

	const from = `from='juliet@example.com/balcony' id='1'`
	tests := []struct {
		iq    string
		items bool // the items handler, else info
		want  []string
		err   *stanza.Error
	}{
		0: { // the domain: identity, disco's own features, router features sorted and deduplicated
			iq: `<iq type='get' to='example.com' ` + from + `><query xmlns='` + NSInfo + `'/></iq>`,
			want: []string{"identity:server/im", "feature:" + NSInfo, "feature:" + NSItems,
				"feature:urn:xmpp:ping", "feature:vcard-temp"},
		},
		1: { // no 'to': the sender's own account (RFC 6120 §10.3.3)
			iq:   `<iq type='get' ` + from + `><query xmlns='` + NSInfo + `'/></iq>`,
			want: []string{"identity:account/registered", "identity:pubsub/pep", "feature:" + NSInfo, "feature:urn:xmpp:mam:2"},
		},
		2: { // another local account's bare JID
			iq:   `<iq type='get' to='romeo@example.com' ` + from + `><query xmlns='` + NSInfo + `'/></iq>`,
			want: []string{"identity:account/registered", "identity:pubsub/pep", "feature:" + NSInfo, "feature:urn:xmpp:mam:2"},
		},
		3: { // an unknown node
			iq:  `<iq type='get' to='example.com' ` + from + `><query xmlns='` + NSInfo + `' node='x'/></iq>`,
			err: stanza.ErrItemNotFound,
		},
		4: { // set is not allowed
			iq:  `<iq type='set' to='example.com' ` + from + `><query xmlns='` + NSInfo + `'/></iq>`,
			err: stanza.ErrNotAllowed,
		},
		5: { // another domain is not ours to answer for
			iq:  `<iq type='get' to='other.org' ` + from + `><query xmlns='` + NSInfo + `'/></iq>`,
			err: stanza.ErrServiceUnavailable,
		},
		6: { // domain items: the components, in the order added
			iq:    `<iq type='get' to='example.com' ` + from + `><query xmlns='` + NSItems + `'/></iq>`,
			items: true,
			want:  []string{"item:conference.example.com/Rooms", "item:upload.example.com/"},
		},
		7: { // an account lists no items
			iq:    `<iq type='get' to='romeo@example.com' ` + from + `><query xmlns='` + NSItems + `'/></iq>`,
			items: true,
		},
		8: {
			iq:    `<iq type='get' to='example.com' ` + from + `><query xmlns='` + NSItems + `' node='n'/></iq>`,
			items: true,
			err:   stanza.ErrItemNotFound,
		},
		9: { // wrong element name in the namespace
			iq:  `<iq type='get' to='example.com' ` + from + `><info xmlns='` + NSInfo + `'/></iq>`,
			err: stanza.ErrBadRequest,
		},
		10: { // a full JID is not answered by the server
			iq:  `<iq type='get' to='romeo@example.com/x' ` + from + `><query xmlns='` + NSInfo + `'/></iq>`,
			err: stanza.ErrServiceUnavailable,
		},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			h := m.HandleInfo
			if tc.items {
				h = m.HandleItems
			}
			res, ok := imtest.Handle(t, h, tc.iq, tc.err)
			if !ok {
				return
			}
			wantName := NSInfo
			if tc.items {
				wantName = NSItems
			}
			if res.Name != "query" || res.Space != wantName {
				t.Errorf("result is <%s xmlns='%s'>", res.Name, res.Space)
			}
			if got := summary(res); !slices.Equal(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestFeaturesAtRequestTime checks that a feature registered after New is
// advertised: disco must not snapshot the list.
func TestFeaturesAtRequestTime(t *testing.T) {
	f := &features{}
	m := New(Options{Domain: jid.MustParse("example.com"), Features: f})
	*f = append(*f, "urn:xmpp:blocking")
	res, err := m.HandleInfo(context.Background(), imtest.Parse(t,
		`<iq type='get' to='example.com' from='a@example.com/r' id='1'><query xmlns='`+NSInfo+`'/></iq>`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(summary(res), "feature:urn:xmpp:blocking") {
		t.Errorf("late feature missing: %q", summary(res))
	}
}

// TestItemsPaged: a domain with more items than a page lists them a page
// at a time (XEP-0059): unasked, the first page with a result set saying
// there are more; after, before, an empty before (the last page), index
// and max page through them, max no larger than the page size; an
// unknown id is item-not-found.
func TestItemsPaged(t *testing.T) {
	m := New(Options{Domain: jid.MustParse("example.com"), PageSize: 2})
	for i := range 5 {
		m.AddItem(jid.MustParse("c"+strconv.Itoa(i)+".example.com"), "")
	}
	const from = `to='example.com' from='juliet@example.com/balcony' id='1'`
	tests := []struct {
		set  string
		want []string // item JIDs' first labels, then "first index/count"
		err  *stanza.Error
	}{
		0: {want: []string{"c0", "c1", "0/5"}},
		1: {set: `<after>c1.example.com</after>`, want: []string{"c2", "c3", "2/5"}},
		2: {set: `<before/>`, want: []string{"c3", "c4", "3/5"}},
		3: {set: `<before>c3.example.com</before>`, want: []string{"c1", "c2", "1/5"}},
		4: {set: `<index>4</index>`, want: []string{"c4", "4/5"}},
		5: {set: `<max>100</max>`, want: []string{"c0", "c1", "0/5"}},
		6: {set: `<max>0</max>`, want: []string{"-/5"}},
		7: {set: `<after>nope.example.com</after>`, err: stanza.ErrItemNotFound},
		8: {set: `<max>x</max>`, err: stanza.ErrBadRequest},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			q := `<query xmlns='` + NSItems + `'/>`
			if tc.set != "" {
				q = `<query xmlns='` + NSItems + `'><set xmlns='http://jabber.org/protocol/rsm'>` + tc.set + `</set></query>`
			}
			res, ok := imtest.Handle(t, m.HandleItems, `<iq type='get' `+from+`>`+q+`</iq>`, tc.err)
			if !ok {
				return
			}
			var got []string
			for _, c := range res.Children {
				switch c.Name {
				case "item":
					got = append(got, jid.MustParse(c.Get("jid")).Domain()[:2])
				case "set":
					idx := "-"
					if f := c.Child("first", ""); f != nil {
						idx = f.Get("index")
					}
					got = append(got, idx+"/"+c.ChildText("count", ""))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNodesAndForms: a node handler answers for its nodes of the domain
// (XEP-0030 §3.2, §4.2), other nodes and nodes of accounts are
// item-not-found, and a form added with AddServerForm extends only the
// domain's disco#info (XEP-0128).
func TestNodesAndForms(t *testing.T) {
	m := New(Options{Domain: jid.MustParse("example.com"), Features: features{}})
	m.AddNodes(func(_ context.Context, iq *stanza.Stanza, node string) (*xmlstream.Element, bool, error) {
		switch node {
		case "mine":
			return xmlstream.New("query", iq.Payload().Space, "node", node).
				Add(xmlstream.New("item", NSItems, "jid", "example.com", "node", "a", "name", "A")), true, nil
		case "secret":
			return nil, true, stanza.ErrForbidden
		}
		return nil, false, nil
	})
	m.AddServerForm(xmlstream.New("x", "jabber:x:data", "type", "result"))
	ctx := context.Background()
	ask := func(h func(context.Context, *stanza.Stanza) (*xmlstream.Element, error), to, ns, node string) (*xmlstream.Element, error) {
		raw := `<iq type='get' to='` + to + `' from='a@example.com/r' id='1'><query xmlns='` + ns + `'`
		if node != "" {
			raw += ` node='` + node + `'`
		}
		return h(ctx, imtest.Parse(t, raw+`/></iq>`))
	}
	res, err := ask(m.HandleItems, "example.com", NSItems, "mine")
	if err != nil || res.Get("node") != "mine" || !slices.Equal(summary(res), []string{"item:example.com/A"}) {
		t.Fatalf("own node: %v %v", res, err)
	}
	if _, err := ask(m.HandleInfo, "example.com", NSInfo, "secret"); !errors.Is(err, stanza.ErrForbidden) {
		t.Fatalf("handler's error: %v", err)
	}
	if _, err := ask(m.HandleInfo, "example.com", NSInfo, "other"); !errors.Is(err, stanza.ErrItemNotFound) {
		t.Fatalf("unknown node: %v", err)
	}
	if _, err := ask(m.HandleItems, "b@example.com", NSItems, "mine"); !errors.Is(err, stanza.ErrItemNotFound) {
		t.Fatalf("an account's node: %v", err)
	}
	res, err = ask(m.HandleInfo, "example.com", NSInfo, "")
	if err != nil || res.Child("x", "jabber:x:data") == nil {
		t.Fatalf("domain info lacks the form: %v %v", res, err)
	}
	res, err = ask(m.HandleInfo, "b@example.com", NSInfo, "")
	if err != nil || res.Child("x", "jabber:x:data") != nil {
		t.Fatalf("account info has the form: %v %v", res, err)
	}
}
