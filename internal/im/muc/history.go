package muc

import (
	"strconv"
	"time"

	"parley/internal/jid"
	"parley/internal/xmlstream"
)

// history is the room's recent groupchat messages, oldest first, kept in
// memory for history on join (XEP-0045 §7.2.14). The archive (XEP-0313)
// is the durable record; this is the short window a client gets without
// asking.
type history struct {
	max     int
	entries []historyEntry
}

type historyEntry struct {
	tpl      *template // the message as broadcast, without 'to'
	at       time.Time
	stanzaID string
	bare     jid.JID // sender's real bare JID
	occID    string
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
