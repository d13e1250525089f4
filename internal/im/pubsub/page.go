package pubsub

import (
	"slices"
	"strconv"

	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// ItemsRequest is what an items request (§6.5) asks for: some items by
// id, or the newest Max (0: all), a page at a time (§6.5.7, XEP-0059).
type ItemsRequest struct {
	IDs   map[string]bool
	Max   int
	RSM   rsm.Request
	paged bool // the request carried <set/>
}

// ParseItems reads the <items/> element req of an items request and its
// <set/> (nil without); a page holds at most nodeItems items.
func ParseItems(req, set *xmlstream.Element, nodeItems int) (ItemsRequest, error) {
	r := ItemsRequest{IDs: map[string]bool{}, paged: set != nil}
	if v := req.Get("max_items"); v != "" {
		var err error
		if r.Max, err = strconv.Atoi(v); err != nil || r.Max < 1 {
			return r, stanza.ErrBadRequest.WithText("max_items must be a positive integer")
		}
	}
	for _, c := range req.Children {
		if c.Name == "item" && c.Space == NS && c.Get("id") != "" {
			r.IDs[c.Get("id")] = true
		}
	}
	var err error
	r.RSM, err = rsm.Parse(set, rsm.Limits{Max: nodeItems})
	return r, err
}

// Reply answers the request for a node whose items are sizes (oldest
// first): the page one reply carries within replyBytes, its <item/>s
// made by fetch from the ids of the page alone, and the result set when
// one is due. PEP and the service answer items requests by it.
func (r ItemsRequest) Reply(node string, sizes []store.PEPItemSize, replyBytes int,
	fetch func(ids []string) ([]*xmlstream.Element, error)) (*xmlstream.Element, error) {
	sel, first, last, err := r.page(sizes, replyBytes)
	if err != nil {
		return nil, err
	}
	out := xmlstream.New("items", NS, "node", node)
	res := xmlstream.New("pubsub", NS).Add(out)
	if first < last {
		items, err := fetch(ids(sel[first:last]))
		if err != nil {
			return nil, err
		}
		out.Add(items...)
	}
	if rs := r.resultSet(sel, first, last); rs != nil {
		res.Add(rs)
	}
	return res, nil
}

// page selects, of a node's items (oldest first), those the request asks
// for, and of them the page one reply carries, within replyBytes (Page):
// sel[first:last].
func (r ItemsRequest) page(sizes []store.PEPItemSize, replyBytes int) (sel []store.PEPItemSize, first, last int, err error) {
	sel = sizes
	if len(r.IDs) > 0 {
		sel = nil
		for _, it := range sizes {
			if r.IDs[it.ID] {
				sel = append(sel, it)
			}
		}
	} else if r.Max > 0 && r.Max < len(sel) {
		sel = sel[len(sel)-r.Max:]
	}
	first, last, err = Page(sel, r.RSM, replyBytes)
	return sel, first, last, err
}

// resultSet is the <set/> of a reply carrying sel[first:last], when the
// request paged or the page is not all of sel; nil otherwise.
func (r ItemsRequest) resultSet(sel []store.PEPItemSize, first, last int) *xmlstream.Element {
	if !r.paged && last-first == len(sel) {
		return nil
	}
	rep := rsm.Reply{FirstIndex: -1, Count: len(sel)}
	if first < last {
		rep.First, rep.FirstIndex, rep.Last = sel[first].ID, first, sel[last-1].ID
	}
	return rep.Element()
}

// ids are the ids of items.
func ids(items []store.PEPItemSize) []string {
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

// ItemOverhead is what an <item/> around a payload costs in a reply, at
// most, besides the payload and the id.
const ItemOverhead = 64

// Page chooses the items of sel (oldest first) that one reply carries:
// sel[first:last], at most rq.Max of them and, beyond the first, no more
// than replyBytes (the envelope and the <set/> included). Without a start it is the newest that fit (the last
// page, as XEP-0060 §6.5.7 returns the most recent items); after and
// index page forward, before backward (XEP-0059 §2.2, §2.5).
func Page(sel []store.PEPItemSize, rq rsm.Request, replyBytes int) (first, last int, err error) {
	budget := replyBytes - 1024 // the envelope and the <set/>
	most := min(rq.Limit(len(sel)), len(sel))
	at := func(id string) (int, error) {
		i := slices.IndexFunc(sel, func(it store.PEPItemSize) bool { return it.ID == id })
		if i < 0 {
			return 0, stanza.ErrItemNotFound.WithText("no item " + id + " in the result set")
		}
		return i, nil
	}
	cost := func(i int) int { return sel[i].Bytes + len(sel[i].ID) + ItemOverhead }
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
	case rq.After != "":
		i, err := at(rq.After)
		if err != nil {
			return 0, 0, err
		}
		first, last = forward(i + 1)
	case rq.Index >= 0:
		first, last = forward(min(rq.Index, len(sel)))
	case rq.Before != "":
		i, err := at(rq.Before)
		if err != nil {
			return 0, 0, err
		}
		first, last = backward(i)
	default:
		first, last = backward(len(sel))
	}
	return first, last, nil
}
