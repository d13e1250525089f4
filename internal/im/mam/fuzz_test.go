package mam

import (
	"errors"
	"testing"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// FuzzParseQuery: whatever a client sends as a query, ParseQuery either
// returns a stanza error or a request within the default Limits (search
// length and words, ids, page size), and never panics.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`<query xmlns='urn:xmpp:mam:2'/>`,
		`<query xmlns='urn:xmpp:mam:2' queryid='q'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field><field var='withtext'><value>a b c</value></field></x><set xmlns='http://jabber.org/protocol/rsm'><max>300</max><before/></set><flip-page/></query>`,
		`<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='{urn:xmpp:fulltext:0}fulltext'><value>one two</value></field><field var='withtext'><value>three</value></field></x></query>`,
		`<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data'><field var='{urn:xmpp:mam:2}ids'><value>a</value><value>b</value></field><field var='start'><value>9999-12-31T23:59:59Z</value></field></x></query>`,
		`<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data'><field var='with'><value>juliet@capulet.lit/balcony</value></field><field var='after-id'><value>x</value></field></x><set xmlns='http://jabber.org/protocol/rsm'><after>x</after></set></query>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.Parse(b, xmlstream.Limits{})
		if err != nil {
			return
		}
		r, err := ParseQuery(el)
		if err != nil {
			var se *stanza.Error
			if !errors.As(err, &se) {
				t.Fatalf("ParseQuery error %v is not a stanza error", err)
			}
			return
		}
		q := r.Query
		if len(q.Text) > DefaultSearchBytes || len(searchWords(q.Text)) > DefaultSearchWords ||
			len(q.IDs) > MaxPage || q.Limit < 0 || q.Limit > MaxPage {
			t.Fatalf("ParseQuery accepted a query beyond the limits: %d bytes, %d words, %d ids, limit %d",
				len(q.Text), len(searchWords(q.Text)), len(q.IDs), q.Limit)
		}
	})
}
