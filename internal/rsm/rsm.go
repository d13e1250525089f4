package rsm

import (
	"strconv"
	"strings"

	"parley/internal/defaults"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NS is the result set management namespace.
const NS = "http://jabber.org/protocol/rsm"

// Request is a parsed <set/> of a request.
type Request struct {
	// Max is the page size asked for, capped at Limits.Max; -1 if the
	// requester gave none. 0 asks only for the count (§2.6).
	Max int
	// After asks for the items after this id (§2.2).
	After string
	// Before asks for the items before this id (§2.3); with Last set and
	// Before empty, for the last page (§2.5).
	Before string
	Last   bool
	// Index asks for the page that starts at this position of the whole
	// result set (§2.4); -1 if not given.
	Index int
}

// Limits bound what Parse accepts. Zero fields take the defaults.
type Limits struct {
	// Max caps the page size: a larger <max/> is lowered to it
	// (default 100).
	Max int
	// ID bounds the length in bytes of an <after/> or <before/> id
	// (default 1024).
	ID int
}

// Defaults for Limits.
const (
	DefaultMax = 100
	DefaultID  = 1024
)

func (l Limits) withDefaults() Limits {
	defaults.Positive(&l.Max, DefaultMax)
	defaults.Positive(&l.ID, DefaultID)
	return l
}

func bad(why string) *stanza.Error { return stanza.ErrBadRequest.WithText("result set: " + why) }

// None is the request of a query without a <set/>: no max, no position.
var None = Request{Max: -1, Index: -1}

// Parse reads a <set xmlns='http://jabber.org/protocol/rsm'/>. A nil set
// is None. It returns bad-request for a max or index that is not a
// non-negative integer, an empty <after/>, an id past the limit, and for
// more than one of after, before and index.
func Parse(set *xmlstream.Element, lim Limits) (Request, error) {
	r := None
	if set == nil {
		return r, nil
	}
	if set.Name != "set" || set.Space != NS {
		return r, bad("not a <set xmlns='" + NS + "'/>")
	}
	lim = lim.withDefaults()
	number := func(name string) (int, error) {
		v := strings.TrimSpace(set.ChildText(name, NS))
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, bad("<" + name + "/> must be a non-negative integer")
		}
		return n, nil
	}
	if set.Child("max", NS) != nil {
		n, err := number("max")
		if err != nil {
			return r, err
		}
		r.Max = min(n, lim.Max)
	}
	starts := 0
	if set.Child("index", NS) != nil {
		n, err := number("index")
		if err != nil {
			return r, err
		}
		r.Index = n
		starts++
	}
	if a := set.Child("after", NS); a != nil {
		if r.After = strings.TrimSpace(a.Text); r.After == "" {
			return r, bad("empty <after/>")
		}
		starts++
	}
	if b := set.Child("before", NS); b != nil {
		r.Before = strings.TrimSpace(b.Text)
		r.Last = r.Before == "" // §2.5: <before/> asks for the last page
		starts++
	}
	if starts > 1 {
		return r, bad("more than one of <after/>, <before/> and <index/>")
	}
	if len(r.After) > lim.ID || len(r.Before) > lim.ID {
		return r, bad("an id longer than " + strconv.Itoa(lim.ID) + " bytes")
	}
	return r, nil
}

// Limit is the page size to serve: Max if the requester gave one, else
// def.
func (r Request) Limit(def int) int {
	if r.Max >= 0 {
		return r.Max
	}
	return def
}

// Reply is the <set/> of an answer.
type Reply struct {
	First, Last string
	// FirstIndex is the position of First in the whole result set
	// (§2.1); -1 leaves it out.
	FirstIndex int
	// Count is the size of the whole result set; -1 leaves it out.
	Count int
}

// Element builds the answer's <set/>. An empty page has no first and
// last (§2.6: only the count).
func (r Reply) Element() *xmlstream.Element {
	set := xmlstream.New("set", NS)
	if r.First != "" {
		first := xmlstream.NewText("first", NS, r.First)
		if r.FirstIndex >= 0 {
			first.Attr = append(first.Attr, xmlstream.Attr{Name: "index", Value: strconv.Itoa(r.FirstIndex)})
		}
		set.Add(first, xmlstream.NewText("last", NS, r.Last))
	}
	if r.Count >= 0 {
		set.Add(xmlstream.NewText("count", NS, strconv.Itoa(r.Count)))
	}
	return set
}

// Page returns the page of a whole, ordered result set that r asks for,
// and the reply describing it; id names an item. It serves results held
// in memory (a service's room list). An after or before id that is not
// in the set is item-not-found (§2.2: the requester's id is stale).
func Page[T any](all []T, r Request, def int, id func(T) string) ([]T, Reply, error) {
	n := r.Limit(def)
	start := 0
	switch {
	case r.Index >= 0:
		start = min(r.Index, len(all))
	case r.After != "":
		i := indexOf(all, r.After, id)
		if i < 0 {
			return nil, Reply{}, stanza.ErrItemNotFound.WithText("result set: no item " + strconv.Quote(r.After))
		}
		start = i + 1
	case r.Last:
		start = max(len(all)-n, 0)
	case r.Before != "":
		i := indexOf(all, r.Before, id)
		if i < 0 {
			return nil, Reply{}, stanza.ErrItemNotFound.WithText("result set: no item " + strconv.Quote(r.Before))
		}
		start = max(i-n, 0)
		n = min(n, i)
	}
	end := min(start+n, len(all))
	page := all[start:end]
	rep := Reply{FirstIndex: -1, Count: len(all)}
	if len(page) > 0 {
		rep.First, rep.FirstIndex, rep.Last = id(page[0]), start, id(page[len(page)-1])
	}
	return page, rep, nil
}

func indexOf[T any](all []T, want string, id func(T) string) int {
	for i, v := range all {
		if id(v) == want {
			return i
		}
	}
	return -1
}
