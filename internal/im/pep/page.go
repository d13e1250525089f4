package pep

import (
	"slices"
	"strconv"
	"strings"

	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// pageRequest is a result set management request (XEP-0059 §2): the
// page size and where the page starts. max, index are -1 when absent.
type pageRequest struct {
	max, index int
	after      string
	before     string
	hasAfter   bool
	hasBefore  bool // an empty <before/> asks for the last page (§2.5)
}

// parseSet reads an RSM <set/> (nil: no request).
func parseSet(set *xmlstream.Element) (pageRequest, error) {
	rq := pageRequest{max: -1, index: -1}
	if set == nil {
		return rq, nil
	}
	number := func(c *xmlstream.Element) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(c.Text))
		if err != nil || n < 0 {
			return 0, stanza.ErrBadRequest.WithText("<" + c.Name + "/> must be a non-negative integer")
		}
		return n, nil
	}
	var err error
	for _, c := range set.Children {
		if c.Space != NSRSM {
			continue
		}
		switch c.Name {
		case "max":
			rq.max, err = number(c)
		case "index":
			rq.index, err = number(c)
		case "after":
			rq.after, rq.hasAfter = c.Text, true
		case "before":
			rq.before, rq.hasBefore = c.Text, true
		}
		if err != nil {
			return rq, err
		}
	}
	return rq, nil
}

// page chooses the items of sel (oldest first) that one reply carries:
// sel[first:last], at most rq.max of them and, beyond the first, no more
// than ReplyBytes. Without a start it is the newest that fit (the last
// page, as XEP-0060 §6.5.7 returns the most recent items); after and
// index page forward, before backward (XEP-0059 §2.2, §2.5).
func (m *Module) page(sel []store.PEPItemSize, rq pageRequest) (first, last int, err error) {
	budget := m.limits.ReplyBytes - 1024 // the envelope and the <set/>
	most := len(sel)
	if rq.max >= 0 {
		most = min(rq.max, most)
	}
	at := func(id string) (int, error) {
		i := slices.IndexFunc(sel, func(it store.PEPItemSize) bool { return it.ID == id })
		if i < 0 {
			return 0, stanza.ErrItemNotFound.WithText("no item " + id + " in the result set")
		}
		return i, nil
	}
	cost := func(i int) int { return sel[i].Bytes + len(sel[i].ID) + itemOverhead }
	used := 0
	forward := func(from int) (int, int) {
		to := from
		for to < len(sel) && to-from < most && (to == from || used+cost(to) <= budget) {
			used += cost(to)
			to++
		}
		return from, to
	}
	backward := func(to int) (int, int) {
		from := to
		for from > 0 && to-from < most && (from == to || used+cost(from-1) <= budget) {
			used += cost(from - 1)
			from--
		}
		return from, to
	}
	switch {
	case rq.hasAfter:
		i, err := at(rq.after)
		if err != nil {
			return 0, 0, err
		}
		first, last = forward(i + 1)
	case rq.index >= 0:
		first, last = forward(min(rq.index, len(sel)))
	case rq.hasBefore && rq.before != "":
		i, err := at(rq.before)
		if err != nil {
			return 0, 0, err
		}
		first, last = backward(i)
	default:
		first, last = backward(len(sel))
	}
	return first, last, nil
}

// resultSet is the <set/> of a reply carrying sel[first:last] (XEP-0059
// §2.1: first with its index, last, and the count of the whole set).
func resultSet(sel []store.PEPItemSize, first, last int) *xmlstream.Element {
	set := xmlstream.New("set", NSRSM)
	if first < last {
		set.Add(xmlstream.NewText("first", NSRSM, sel[first].ID))
		set.Children[0].Attr = append(set.Children[0].Attr, xmlstream.Attr{Name: "index", Value: strconv.Itoa(first)})
		set.Add(xmlstream.NewText("last", NSRSM, sel[last-1].ID))
	}
	return set.Add(xmlstream.NewText("count", NSRSM, strconv.Itoa(len(sel))))
}
