package mam

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"parley/internal/dataform"
	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/rsm"
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
	if q := iq.Payload(); q.Name == "prefs" {
		return m.handlePrefs(ctx, iq, q)
	}
	// Messages delivered before this query may still be committing: they
	// belong in the answer.
	if err := m.store.SyncArchive(ctx); err != nil {
		return nil, fmt.Errorf("mam: %w", err)
	}
	// Paced: a page of large messages is built within the requester's
	// queue bound instead of overflowing it (issue 10 item 3).
	deliver := func(st *stanza.Stanza) bool { return m.router.DeliverPaced(ctx, iq.From, st) }
	return m.limits.Serve(ctx, m.store, iq.From.Local(), iq.From.Bare(), iq, nil, deliver)
}

// Serve answers an urn:xmpp:mam:2 query (set), query form (get) or
// metadata request (get) against the archive of owner, which lives at the
// address archive (a user's bare JID, or a room's), held to the limits l
// (zero fields: the defaults): results come from archive and each is
// handed to deliver, which returns false when the requester is gone (Serve
// then returns router.ErrNoReply). adjust, if not nil, may rewrite the
// parsed request before it runs (a room maps 'with' to its occupants). The
// caller checks that the requester may read the archive. Preferences are
// the caller's to serve.
func (l Limits) Serve(ctx context.Context, s Store, owner string, archive jid.JID, iq *stanza.Stanza,
	adjust func(*Request) error, deliver func(*stanza.Stanza) bool) (*xmlstream.Element, error) {
	l = l.withDefaults()
	q := iq.Payload()
	switch {
	case q.Name == "query" && iq.Type == "set":
		req, err := l.ParseQuery(q)
		if err != nil {
			return nil, err
		}
		if adjust != nil {
			if err := adjust(&req); err != nil {
				return nil, err
			}
		}
		return answer(ctx, s, owner, archive, iq.From, req, l.QueryTimeout, deliver)
	case q.Name == "query" && iq.Type == "get":
		return QueryForm(), nil // XEP-0313 §4.1.1: the fields we accept
	case q.Name == "metadata" && iq.Type == "get":
		return metadata(ctx, s, owner)
	}
	return nil, stanza.ErrBadRequest.WithText("unknown urn:xmpp:mam:2 request")
}

// QueryForm lists the fields of a query (XEP-0313 §4.1.1, XEP-0431,
// urn:xmpp:mam:2#extended).
func QueryForm() *xmlstream.Element {
	f := dataform.New(dataform.TypeForm, NS,
		dataform.NewField("with", dataform.JIDSingle, ""),
		dataform.NewField("start", dataform.TextSingle, ""),
		dataform.NewField("end", dataform.TextSingle, ""),
		dataform.NewField("{"+NSFullText+"}fulltext", dataform.TextSingle, ""),
		dataform.NewField("withtext", dataform.TextSingle, ""),
		dataform.NewField("before-id", dataform.TextSingle, ""),
		dataform.NewField("after-id", dataform.TextSingle, ""),
		dataform.NewField("ids", dataform.TextMulti, ""),
	)
	return xmlstream.New("query", NS).Add(f.Element())
}

// Limits bound what one query may cost the server (issue 10: a withtext
// of 100,000 words took 31 s of CPU, and four of them made every login
// wait for the store). Zero fields mean the defaults.
type Limits struct {
	// SearchBytes is the longest full-text search (the fulltext and
	// withtext fields together), in bytes. Default 1024.
	SearchBytes int
	// SearchWords is the most words one search may hold; each is one
	// more index list that the store intersects. Default 16.
	SearchWords int
	// IDs is the most values of the #extended ids filter. Default
	// MaxPage: more could not be returned in one page anyway.
	IDs int
	// QueryTimeout is how long one query may take in the store, waiting
	// for its share of the store's connections included; beyond it the
	// requester gets resource-constraint. Default 10 s.
	QueryTimeout time.Duration
}

// Default limits.
const (
	DefaultSearchBytes  = 1024
	DefaultSearchWords  = 16
	DefaultQueryTimeout = 10 * time.Second
)

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	defaults.Positive(&l.SearchBytes, DefaultSearchBytes)
	defaults.Positive(&l.SearchWords, DefaultSearchWords)
	defaults.Positive(&l.IDs, MaxPage)
	defaults.Positive(&l.QueryTimeout, DefaultQueryTimeout)
	return l
}

// check refuses a query beyond the limits with policy-violation (RFC 6120
// §8.3.3.12: a local service policy, named in the text).
func (l Limits) check(q *store.ArchiveQuery) error {
	if len(q.Text) > l.SearchBytes {
		return stanza.ErrPolicyViolation.WithText(fmt.Sprintf("a full-text search may hold at most %d bytes", l.SearchBytes))
	}
	if n := len(searchWords(q.Text)); n > l.SearchWords {
		return stanza.ErrPolicyViolation.WithText(fmt.Sprintf("a full-text search may hold at most %d words", l.SearchWords))
	}
	if len(q.IDs) > l.IDs {
		return stanza.ErrPolicyViolation.WithText(fmt.Sprintf("'ids' may hold at most %d values", l.IDs))
	}
	return nil
}

// searchWords splits a search into the words the stores match on (runs
// of letters and digits, as both backends tokenise).
func searchWords(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// Request is a parsed query.
type Request struct {
	Query store.ArchiveQuery
	// With is the 'with' field as given (Query.With holds its bare JID,
	// which is what a user's archive records).
	With     jid.JID
	QueryID  string
	FlipPage bool
}

// ParseQuery reads the data form, the RSM set and flip-page of a query,
// within the default Limits.
func ParseQuery(q *xmlstream.Element) (Request, error) { return Limits{}.ParseQuery(q) }

// ParseQuery reads the data form, the RSM set and flip-page of a query,
// and refuses one beyond l.
func (l Limits) ParseQuery(q *xmlstream.Element) (Request, error) {
	r, err := parseQuery(q)
	if err == nil {
		err = l.withDefaults().check(&r.Query)
	}
	return r, err
}

func parseQuery(q *xmlstream.Element) (Request, error) {
	r := Request{QueryID: q.Get("queryid"), Query: store.ArchiveQuery{Limit: DefaultPage, Count: true}}
	if q.Get("node") != "" {
		return r, stanza.ErrItemNotFound.WithText("no pubsub node archives here")
	}
	if x := q.Child("x", dataform.NS); x != nil {
		f, err := dataform.Parse(x, dataform.Limits{})
		if err != nil {
			return r, err
		}
		if f.Type != dataform.TypeSubmit && f.Type != "" {
			return r, stanza.ErrBadRequest.WithText("the form must be of type submit")
		}
		if err := applyForm(f, &r.Query, &r.With); err != nil {
			return r, err
		}
	}
	// XEP-0059 paging, the page capped at MaxPage; index is not served.
	set, err := rsm.Parse(q.Child("set", rsm.NS), rsm.Limits{Max: MaxPage})
	if err != nil {
		return r, err
	}
	if set.Index >= 0 {
		return r, stanza.ErrFeatureNotImplemented.WithText("paging by index is not supported; use after/before")
	}
	r.Query.Limit = set.Limit(DefaultPage)
	r.Query.After, r.Query.Before, r.Query.Last = set.After, set.Before, set.Last
	r.FlipPage = q.Child("flip-page", NS) != nil
	return r, nil
}

// applyForm reads the filters of a query form (XEP-0313 §4.1.1,
// XEP-0431, #extended) into q.
func applyForm(f *dataform.Form, q *store.ArchiveQuery, with *jid.JID) error {
	for _, fd := range f.Fields {
		one := strings.TrimSpace(strings.Join(fd.Values, ""))
		// Several clients qualify the field names in Clark notation with
		// the form's namespace ({urn:xmpp:mam:2}ids): the same fields.
		name := strings.TrimPrefix(fd.Var, "{"+NS+"}")
		switch name {
		case dataform.FormType:
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
			// A user's archive keeps the other party's bare JID.
			*with = j
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
			for _, v := range fd.Values {
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

// answer runs a query: the results as messages to the requester, then
// <fin/> as the IQ result (XEP-0313 §4.2).
func answer(ctx context.Context, s Store, owner string, archive, to jid.JID, req Request,
	timeout time.Duration, deliver func(*stanza.Stanza) bool) (*xmlstream.Element, error) {
	qctx, cancel := context.WithTimeout(ctx, timeout)
	page, err := s.QueryArchive(qctx, owner, req.Query)
	expired := qctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
	cancel()
	if err != nil && expired {
		// RFC 6120 §8.3.3.18: the server lacks the resources now.
		return nil, stanza.ErrResourceConstraint.WithText("the archive query took too long; narrow it down")
	}
	if err != nil {
		return nil, storeErr(err, "no such message in the archive")
	}
	msgs := page.Messages
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
		if req.FlipPage {
			order[i] = len(msgs) - 1 - i
		}
	}
	for _, i := range order {
		if !deliver(resultMessage(archive, to, req.QueryID, msgs[i])) {
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
	reply := rsm.Reply{FirstIndex: -1, Count: count}
	if len(msgs) > 0 {
		reply.First, reply.Last = msgs[0].ID, msgs[len(msgs)-1].ID
	}
	return reply.Element()
}

// resultMessage wraps an archived stanza for delivery (XEP-0313 §4.2,
// XEP-0297), from the archive's JID (the user's bare JID: what a missing
// 'from' would mean too, but clients such as slixmpp match on it; or the
// room's, XEP-0313 §5.1.2). The
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
func metadata(ctx context.Context, s Store, owner string) (*xmlstream.Element, error) {
	md, err := s.ArchiveMetadata(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("mam: metadata of %s: %w", owner, err)
	}
	el := xmlstream.New("metadata", NS)
	if md.FirstID != "" {
		el.Add(xmlstream.New("start", NS, "id", md.FirstID, "timestamp", stamp(md.FirstStamp)),
			xmlstream.New("end", NS, "id", md.LastID, "timestamp", stamp(md.LastStamp)))
	}
	return el, nil
}
