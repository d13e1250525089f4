package pubsub

import (
	"slices"

	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/store"
)

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
