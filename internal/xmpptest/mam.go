package xmpptest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"parley/internal/xmlstream"
)

// Namespaces of message archive queries.
const (
	NSMAM     = "urn:xmpp:mam:2"                 // XEP-0313
	NSRSM     = "http://jabber.org/protocol/rsm" // XEP-0059
	NSForward = "urn:xmpp:forward:0"             // XEP-0297
)

// Archived is one result of a MAM query (XEP-0313 §4.2).
type Archived struct {
	ID      string             // the archive id, <result id='…'/>
	Message *xmlstream.Element // the archived <message/>
	Delay   *xmlstream.Element // the <delay/> stamping it (XEP-0203), if any
}

// Archive is a MAM query's answer: its results in the order they came,
// and the <fin/> of the IQ result that ended them (§4.3).
type Archive struct {
	Results []Archived
	Fin     *xmlstream.Element
}

// Messages lists the archived <message/>s.
func (a *Archive) Messages() []*xmlstream.Element {
	out := make([]*xmlstream.Element, len(a.Results))
	for i, r := range a.Results {
		out[i] = r.Message
	}
	return out
}

// Bodies lists the archived messages' bodies ("" for none).
func (a *Archive) Bodies() []string {
	out := make([]string, len(a.Results))
	for i, r := range a.Results {
		out[i] = r.Message.ChildText("body", "")
	}
	return out
}

// IDs lists the results' archive ids.
func (a *Archive) IDs() []string {
	out := make([]string, len(a.Results))
	for i, r := range a.Results {
		out[i] = r.ID
	}
	return out
}

// Complete reports whether <fin/> says the last page was reached.
func (a *Archive) Complete() bool { return a.Fin.Get("complete") == "true" }

// RSM returns the text of a child (first, last, count) of the <fin/>'s
// result set (XEP-0059 §2), "" without one.
func (a *Archive) RSM(name string) string {
	if set := a.Fin.Child("set", NSRSM); set != nil {
		return set.ChildText(name, NSRSM)
	}
	return ""
}

// QueryArchive runs a MAM query (XEP-0313 §4) against archive, the
// account's own when "", a room's when it is the room's JID: it sends a
// set IQ with a <query/> holding query (a data form, see MAMForm; an RSM
// <set/>; <flip-page/>) and a query id of its own, then collects the
// <result/> messages carrying that id until the IQ result with <fin/>.
// timeout bounds the wait for each of them. An error IQ or an answer
// without <fin/> is an error.
func (c *Client) QueryArchive(timeout time.Duration, archive, query string) (*Archive, error) {
	id := "mam" + strconv.FormatUint(c.ids.Add(1), 10) // never a late result's
	to := ""
	if archive != "" {
		to = " to='" + xmlEscape(archive) + "'"
	}
	if err := c.Send("<iq type='set' id='" + id + "'" + to + "><query xmlns='" + NSMAM + "' queryid='" + id + "'>" + query + "</query></iq>"); err != nil {
		return nil, err
	}
	a := &Archive{}
	for {
		el, err := c.Expect(timeout, func(el *xmlstream.Element) bool {
			if el.Name == "iq" {
				return el.Get("id") == id && (el.Get("type") == "result" || el.Get("type") == "error")
			}
			r := el.Child("result", NSMAM)
			return el.Name == "message" && r != nil && r.Get("queryid") == id
		})
		if err != nil {
			return nil, fmt.Errorf("archive query of %q after %d results: %w", archive, len(a.Results), err)
		}
		if el.Name == "iq" {
			if a.Fin = el.Child("fin", NSMAM); el.Get("type") != "result" || a.Fin == nil {
				return nil, fmt.Errorf("archive query of %q: answer %s", archive, el)
			}
			return a, nil
		}
		r := el.Child("result", NSMAM)
		fwd := r.Child("forwarded", NSForward)
		if fwd == nil || fwd.Child("message", NSClient) == nil {
			return nil, fmt.Errorf("archive query of %q: result without a forwarded message: %s", archive, el)
		}
		a.Results = append(a.Results, Archived{ID: r.Get("id"), Message: fwd.Child("message", NSClient), Delay: fwd.Child("delay", "urn:xmpp:delay")})
	}
}

// MustQueryArchive is QueryArchive that fails the test on an error.
func MustQueryArchive(tb testing.TB, c *Client, timeout time.Duration, archive, query string) *Archive {
	tb.Helper()
	a, err := c.QueryArchive(timeout, archive, query)
	if err != nil {
		tb.Fatalf("%s: %v", c.JID, err)
	}
	return a
}

// MAMForm is a MAM query's data form (XEP-0313 §4.1) with fields, raw
// <field/> elements, and its FORM_TYPE; "" when there are no fields.
func MAMForm(fields string) string {
	if fields == "" {
		return ""
	}
	return "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>" + NSMAM + "</value></field>" + fields + "</x>"
}
