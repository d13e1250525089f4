package mam

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// HandleIQ answers the urn:xmpp:mam:2 IQs: query (set), query form (get),
// metadata (get) and prefs (get/set).
func (m *Module) HandleIQ(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	if err := ownArchive(iq); err != nil {
		return nil, err
	}
	q := iq.Payload()
	switch {
	case q.Name == "query" && iq.Type == "set":
		return m.query(ctx, iq, q)
	case q.Name == "query" && iq.Type == "get":
		return queryForm(), nil // XEP-0313 §4.1.1: the fields we accept
	case q.Name == "metadata" && iq.Type == "get":
		return m.metadata(ctx, iq)
	case q.Name == "prefs":
		return m.handlePrefs(ctx, iq, q)
	}
	return nil, stanza.ErrBadRequest.WithText("unknown urn:xmpp:mam:2 request")
}

// queryForm lists the fields of a query (XEP-0313 §4.1.1, XEP-0431,
// urn:xmpp:mam:2#extended).
func queryForm() *xmlstream.Element {
	x := xmlstream.New("x", NSData, "type", "form")
	field := func(v, typ string) *xmlstream.Element {
		return xmlstream.New("field", NSData, "var", v, "type", typ)
	}
	ft := field("FORM_TYPE", "hidden")
	ft.Add(xmlstream.NewText("value", NSData, NS))
	x.Add(ft,
		field("with", "jid-single"),
		field("start", "text-single"),
		field("end", "text-single"),
		field("{"+NSFullText+"}fulltext", "text-single"),
		field("withtext", "text-single"),
		field("before-id", "text-single"),
		field("after-id", "text-single"),
		field("ids", "text-multi"),
	)
	return xmlstream.New("query", NS).Add(x)
}

// request is a parsed query.
type request struct {
	q        store.ArchiveQuery
	queryID  string
	flipPage bool
}

// parseQuery reads the data form, the RSM set and flip-page of a query.
func parseQuery(q *xmlstream.Element) (request, error) {
	r := request{queryID: q.Get("queryid"), q: store.ArchiveQuery{Limit: DefaultPage, Count: true}}
	if q.Get("node") != "" {
		return r, stanza.ErrItemNotFound.WithText("no pubsub node archives here")
	}
	if x := q.Child("x", NSData); x != nil {
		if t := x.Get("type"); t != "submit" && t != "" {
			return r, stanza.ErrBadRequest.WithText("the form must be of type submit")
		}
		if err := parseForm(x, &r.q); err != nil {
			return r, err
		}
	}
	if set := q.Child("set", NSRSM); set != nil {
		if err := parseRSM(set, &r.q); err != nil {
			return r, err
		}
	}
	r.flipPage = q.Child("flip-page", NS) != nil
	return r, nil
}

func parseForm(x *xmlstream.Element, q *store.ArchiveQuery) error {
	for _, f := range x.Children {
		if f.Name != "field" || f.Space != NSData {
			continue
		}
		var values []string
		for _, v := range f.Children {
			if v.Name == "value" && v.Space == NSData {
				values = append(values, v.Text)
			}
		}
		one := strings.TrimSpace(strings.Join(values, ""))
		name := f.Get("var")
		switch name {
		case "FORM_TYPE":
			if one != NS {
				return stanza.ErrBadRequest.WithText("FORM_TYPE must be " + NS)
			}
		case "with":
			if one == "" {
				continue
			}
			j, err := jid.Parse(one)
			if err != nil {
				return stanza.ErrBadRequest.WithText("bad JID in 'with'")
			}
			// The archive keeps the other party's bare JID.
			q.With = j.Bare().String()
		case "start", "end":
			if one == "" {
				continue
			}
			t, err := parseDateTime(one)
			if err != nil {
				return stanza.ErrBadRequest.WithText(fmt.Sprintf("'%s' is not an XEP-0082 date and time", name))
			}
			if name == "start" {
				q.Start = t
			} else {
				q.End = t
			}
		case "{" + NSFullText + "}fulltext", "withtext":
			q.Text = strings.TrimSpace(q.Text + " " + one)
		case "after-id":
			q.AfterID = one
		case "before-id":
			q.BeforeID = one
		case "ids":
			for _, v := range values {
				if v = strings.TrimSpace(v); v != "" {
					q.IDs = append(q.IDs, v)
				}
			}
			if len(q.IDs) == 0 {
				return stanza.ErrBadRequest.WithText("'ids' without a value")
			}
		default:
			// Silently ignoring a filter would return what the client
			// did not ask for.
			return stanza.ErrFeatureNotImplemented.WithText("unsupported field '" + name + "'")
		}
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) {
		return stanza.ErrBadRequest.WithText("'end' is before 'start'")
	}
	return nil
}

// parseDateTime reads an XEP-0082 DateTime (RFC 3339 with a mandatory
// zone, optional fractional seconds).
func parseDateTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// parseRSM reads XEP-0059 paging: max (capped at MaxPage), after, before
// (empty: the last page). index is not supported.
func parseRSM(set *xmlstream.Element, q *store.ArchiveQuery) error {
	if m := set.Child("max", NSRSM); m != nil {
		n, err := strconv.Atoi(strings.TrimSpace(m.Text))
		if err != nil || n < 0 {
			return stanza.ErrBadRequest.WithText("<max/> must be a non-negative integer")
		}
		q.Limit = min(n, MaxPage)
	}
	if set.Child("index", NSRSM) != nil {
		return stanza.ErrFeatureNotImplemented.WithText("paging by index is not supported; use after/before")
	}
	after, before := set.Child("after", NSRSM), set.Child("before", NSRSM)
	if after != nil && before != nil {
		return stanza.ErrBadRequest.WithText("<after/> and <before/> together")
	}
	if after != nil {
		if q.After = strings.TrimSpace(after.Text); q.After == "" {
			return stanza.ErrBadRequest.WithText("empty <after/>")
		}
	}
	if before != nil {
		q.Before = strings.TrimSpace(before.Text)
		q.Last = q.Before == "" // XEP-0059 §2.5: <before/> asks for the last page
	}
	return nil
}

// query runs a query: the results as messages to the requesting session,
// then <fin/> as the IQ result (XEP-0313 §4.2).
func (m *Module) query(ctx context.Context, iq *stanza.Stanza, el *xmlstream.Element) (*xmlstream.Element, error) {
	req, err := parseQuery(el)
	if err != nil {
		return nil, err
	}
	page, err := m.store.QueryArchive(ctx, iq.From.Local(), req.q)
	if err != nil {
		return nil, storeErr(err, "no such message in the archive")
	}
	msgs := page.Messages
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
		if req.flipPage {
			order[i] = len(msgs) - 1 - i
		}
	}
	for _, i := range order {
		if !m.router.DeliverTo(iq.From, resultMessage(iq.From.Bare(), iq.From, req.queryID, msgs[i])) {
			return nil, router.ErrNoReply // the session is gone
		}
	}
	fin := xmlstream.New("fin", NS)
	if page.Complete {
		fin.Attr = append(fin.Attr, xmlstream.Attr{Name: "complete", Value: "true"})
	}
	// Archive ids never change and messages are never reordered.
	fin.Attr = append(fin.Attr, xmlstream.Attr{Name: "stable", Value: "true"})
	fin.Add(rsmSet(msgs, page.Count))
	return fin, nil
}

// rsmSet is the XEP-0059 answer: first and last of the page in archive
// order (flip-page changes only the order of delivery, so a client pages
// on with <before>first</before> or <after>last</after> either way), and
// the count of the whole result set.
func rsmSet(msgs []store.ArchivedMessage, count int) *xmlstream.Element {
	set := xmlstream.New("set", NSRSM)
	if len(msgs) > 0 {
		set.Add(xmlstream.NewText("first", NSRSM, msgs[0].ID),
			xmlstream.NewText("last", NSRSM, msgs[len(msgs)-1].ID))
	}
	if count >= 0 {
		set.Add(xmlstream.NewText("count", NSRSM, strconv.Itoa(count)))
	}
	return set
}

// resultMessage wraps an archived stanza for delivery (XEP-0313 §4.2,
// XEP-0297), from the archive's JID (the user's bare JID: what a missing
// 'from' would mean too, but clients such as slixmpp match on it). The
// stored bytes are copied, never parsed.
func resultMessage(archive, to jid.JID, queryID string, msg store.ArchivedMessage) *stanza.Stanza {
	st := stanza.New(stanza.Message, archive, to, "", stanza.NewID())
	res := xmlstream.New("result", NS, "id", msg.ID)
	if queryID != "" {
		res.Attr = append([]xmlstream.Attr{{Name: "queryid", Value: queryID}}, res.Attr...)
	}
	fwd := xmlstream.New("forwarded", NSForward)
	fwd.Add(xmlstream.New("delay", NSDelay, "stamp", stamp(msg.Stamp)))
	fwd.Add(&xmlstream.Element{Name: "message", Space: stanza.NSClient, Raw: msg.Stanza})
	st.El.Add(res.Add(fwd))
	return st
}

// stamp formats an XEP-0082 DateTime in UTC with microseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// metadata answers the #extended metadata request: the first and last
// message of the archive, or an empty element for an empty archive.
func (m *Module) metadata(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	md, err := m.store.ArchiveMetadata(ctx, iq.From.Local())
	if err != nil {
		return nil, fmt.Errorf("mam: metadata of %s: %w", iq.From.Bare(), err)
	}
	el := xmlstream.New("metadata", NS)
	if md.FirstID != "" {
		el.Add(xmlstream.New("start", NS, "id", md.FirstID, "timestamp", stamp(md.FirstStamp)),
			xmlstream.New("end", NS, "id", md.LastID, "timestamp", stamp(md.LastStamp)))
	}
	return el, nil
}
