package muc

import (
	"context"
	"slices"
	"strconv"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// history is the room's recent groupchat messages, oldest first, kept in
// memory for history on join (XEP-0045 §7.2.14). The archive (XEP-0313)
// is the durable record; this is the short window a client gets without
// asking. A room that archives fills it from its archive when it is
// loaded again (after a restart), so history on join survives restarts.
type history struct {
	max     int
	entries []historyEntry
	// fromArchive is set on a room read from the store: its history is
	// in the archive, to be read before it is first used.
	fromArchive bool
}

type historyEntry struct {
	tpl      *template // the message as broadcast, without 'to'
	at       time.Time
	stanzaID string
}

func (h *history) add(e historyEntry) {
	if h.max <= 0 {
		return
	}
	if len(h.entries) == h.max {
		copy(h.entries, h.entries[1:])
		h.entries = h.entries[:h.max-1]
	}
	h.entries = append(h.entries, e)
}

// find returns the index of the message with a stanza id, or -1.
func (h *history) find(stanzaID string) int {
	for i := range h.entries {
		if h.entries[i].stanzaID == stanzaID {
			return i
		}
	}
	return -1
}

// drop removes the messages of the given templates.
func (h *history) drop(tpls map[*template]bool) {
	h.entries = slices.DeleteFunc(h.entries, func(e historyEntry) bool { return tpls[e.tpl] })
}

// historyLimits is the client's <history/> request (§7.2.14); negative
// fields are absent.
type historyLimits struct {
	maxStanzas int
	maxChars   int
	since      time.Time
}

// parseHistory reads <history/> from the join's <x xmlns=muc/>. Invalid
// values are ignored, as if absent: the request is a hint (§7.2.14).
func parseHistory(x *xmlstream.Element, now time.Time) historyLimits {
	l := historyLimits{maxStanzas: -1, maxChars: -1}
	if x == nil {
		return l
	}
	h := x.Child("history", NS)
	if h == nil {
		return l
	}
	num := func(name string) int {
		v := h.Get(name)
		if v == "" {
			return -1
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	l.maxStanzas = num("maxstanzas")
	l.maxChars = num("maxchars")
	if s := num("seconds"); s >= 0 {
		l.since = now.Add(-time.Duration(s) * time.Second)
	}
	if v := h.Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.After(l.since) {
			l.since = t
		}
	}
	return l
}

// select returns the newest entries that fit every limit, oldest first.
// maxchars counts the complete XML of each stanza as sent (§7.2.14).
func (h *history) pick(l historyLimits) []historyEntry {
	n, chars := 0, 0
	for i := len(h.entries) - 1; i >= 0; i-- {
		e := &h.entries[i]
		if l.maxStanzas >= 0 && n >= l.maxStanzas {
			break
		}
		if !l.since.IsZero() && !e.at.After(l.since) {
			break
		}
		size := len(e.tpl.el.Raw) + delaySize
		if l.maxChars >= 0 && chars+size > l.maxChars {
			break
		}
		chars += size
		n++
	}
	return h.entries[len(h.entries)-n:]
}

// delaySize approximates the <delay/> and 'to' added to each message.
const delaySize = 120

// delayed returns a history message template: the stored message with a
// XEP-0203 <delay/> from the room added.
func (rm *room) delayed(e historyEntry) *template {
	el := *e.tpl.el
	el.Attr = append([]xmlstream.Attr(nil), el.Attr...)
	el.Children = append(e.tpl.children, xmlstream.New("delay", NSDelay, "from", rm.jid.String(),
		"stamp", e.at.UTC().Format("2006-01-02T15:04:05.000Z")))
	t := e.tpl
	return newTemplate(t.kind, t.from, t.typ, t.id, &el)
}

// archivedLimits parse an archived message: one that passed the stream's
// limits, grown by what the room added (stanza-id, occupant-id).
var archivedLimits = xmlstream.Limits{MaxStanza: 2 * xmlstream.DefaultMaxStanza}

// loadHistory fills the history of a room read from the store with the
// newest messages of its archive, once, before the history is first
// read or added to (so that nothing is in it twice). Tombstones of
// moderated messages and the room's own moderation notices are left out,
// as they are of the in-memory history. A failing store is logged and
// leaves the history empty. The caller holds rm.mu.
func (rm *room) loadHistory(ctx context.Context) {
	if !rm.history.fromArchive {
		return
	}
	rm.history.fromArchive = false
	if !rm.archiving() || rm.history.max <= 0 {
		return
	}
	p, err := rm.svc.opts.Archive.QueryArchive(ctx, rm.jid.String(), store.ArchiveQuery{Last: true, Limit: rm.history.max})
	if err != nil {
		rm.svc.opts.Log.Error("muc: history from the archive", "room", rm.jid.String(), "err", err)
		return
	}
	for _, m := range p.Messages {
		el, err := xmlstream.Parse(m.Stanza, archivedLimits)
		if err != nil || el.Child("retracted", NSRetract) != nil {
			continue
		}
		from, err := jid.Parse(el.Get("from"))
		if err != nil || from.Bare() != rm.jid || from.IsBare() {
			continue
		}
		t := newTemplate(stanza.Message, from, "groupchat", el.Get("id"), el)
		rm.history.add(historyEntry{tpl: t, at: m.Stamp, stanzaID: m.ID})
	}
}
