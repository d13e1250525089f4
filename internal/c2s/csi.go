package c2s

import (
	"parley/internal/im/hints"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Client State Indication (XEP-0352). A client that says it is inactive
// (a phone with its screen off) is not woken for what can wait: while
// inactive, presence updates are held, only the latest per contact's full
// JID; chat states (XEP-0085) are dropped; other stanzas that need no
// attention (receipts, markers, carbons of sent messages, PEP events) are
// held in order, and so is room chatter: a groupchat message that does
// not mention the nickname the session joined the room with. Anything the
// user must see or answer flushes everything held, in order, before it: a
// message with a body (in a room whose nickname the session does not know,
// any), a mention, a call (XEP-0353 propose), an IQ, a subscription
// request, an error. <active/> flushes too. Held stanzas are not sent yet, so XEP-0198 neither counts them nor
// asks for their acknowledgement; when the connection is lost they move to
// the unacknowledged stanzas (for a resumption or offline storage).

const nsCSI = "urn:xmpp:csi:0"

// DefaultCSIContacts bounds the contacts whose presence an inactive
// session holds; one more flushes everything held.
const DefaultCSIContacts = 256

// csiClass is what an inactive session does with a stanza.
type csiClass int

const (
	csiUrgent csiClass = iota // flush everything held, then send it
	csiHold                   // hold it (a presence replaces the contact's previous one)
	csiDrop                   // drop it (chat states)
)

// Namespaces the classification looks at.
const (
	nsChatStates    = "http://jabber.org/protocol/chatstates"
	nsJingleMessage = "urn:xmpp:jingle-message:0"
	nsCarbons       = "urn:xmpp:carbons:2"
	nsForward       = "urn:xmpp:forward:0"
)

// classify decides what an inactive session does with a serialised
// stanza; key is the full JID a held presence is from ("" otherwise).
func classify(b []byte, nicks map[string]string) (class csiClass, key string) {
	el, err := xmlstream.ParseIn(b, xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		return csiUrgent, ""
	}
	switch el.Name {
	case "presence":
		switch el.Get("type") {
		case "", "unavailable":
			return csiHold, el.Get("from")
		}
		return csiUrgent, "" // subscriptions and errors need the user
	case "message":
		return classifyMessage(el, nicks), ""
	}
	return csiUrgent, "" // IQs must be answered
}

func classifyMessage(el *xmlstream.Element, nicks map[string]string) csiClass {
	if el.Get("type") == "groupchat" && hasBody(el) {
		// Room chatter waits; a mention of the user's nickname does not.
		// A room whose nickname the session does not know (joined
		// before the limit, or by another path) flushes on every body.
		from, err := jid.Parse(el.Get("from"))
		nick, ok := nicks[from.Bare().String()]
		if err != nil || !ok || router.Mentions(el.ChildText("body", ""), nick) {
			return csiUrgent
		}
		return csiHold
	}
	if el.Get("type") == "error" || hasBody(el) || el.Child("propose", nsJingleMessage) != nil {
		return csiUrgent
	}
	if c := el.Child("received", nsCarbons); c != nil {
		// A carbon of a message to another of the user's clients is news
		// to this one too when it has a body.
		if m := forwarded(c); m != nil && hasBody(m) {
			return csiUrgent
		}
	}
	chatState, other := false, false
	for _, c := range el.Children {
		switch {
		case c.Space == nsChatStates:
			chatState = true
		case c.Name == "thread", c.Name == "stanza-id", c.Name == "origin-id", c.Name == "delay",
			c.Space == hints.NS:
		default:
			other = true
		}
	}
	if chatState && !other {
		return csiDrop // XEP-0352 §1: typing notifications can wait forever
	}
	return csiHold
}

func hasBody(el *xmlstream.Element) bool {
	for _, c := range el.Children {
		if c.Name == "body" && (c.Space == stanza.NSClient || c.Space == "") && c.Text != "" {
			return true
		}
	}
	return false
}

func forwarded(c *xmlstream.Element) *xmlstream.Element {
	if f := c.Child("forwarded", nsForward); f != nil {
		return f.Child("message", "")
	}
	return nil
}

// maxNicks bounds the rooms whose nickname a session remembers.
const maxNicks = 256

// csiState is an outbox's client state; guarded by outbox.mu.
type csiState struct {
	inactive bool
	// nicks are the session's nicknames by room (bare JID), from the
	// directed presence it sent (XEP-0045 §7.2: joining is presence to
	// room/nick), at most maxNicks.
	nicks map[string]string
	held  [][]byte       // in arrival order; nil where a newer presence replaced one
	byKey map[string]int // index in held of each contact's latest presence
	bytes int            // of the stanzas in held
	max   int            // contacts held at most
}

// hold keeps a stanza; it reports false when the bound would be exceeded,
// and the caller flushes instead.
func (c *csiState) hold(b []byte, key string, maxBytes int) bool {
	if key != "" {
		if i, ok := c.byKey[key]; ok {
			c.bytes -= len(c.held[i])
			c.held[i] = nil
		} else if len(c.byKey) >= c.max {
			return false
		}
	}
	if c.bytes+len(b) > maxBytes {
		return false
	}
	if key != "" {
		if c.byKey == nil {
			c.byKey = make(map[string]int)
		}
		c.byKey[key] = len(c.held)
	}
	c.held = append(c.held, b)
	c.bytes += len(b)
	return true
}

// joined records the nickname a session uses in a room (available
// presence to room/nick) or forgets it (unavailable).
func (c *csiState) joined(room, nick string, in bool) {
	switch {
	case !in:
		delete(c.nicks, room)
	case c.nicks == nil:
		c.nicks = map[string]string{room: nick}
	case len(c.nicks) < maxNicks || c.nicks[room] != "":
		c.nicks[room] = nick
	}
}

// take returns the held stanzas in order and forgets them.
func (c *csiState) take() [][]byte {
	out := c.held[:0]
	for _, b := range c.held {
		if b != nil {
			out = append(out, b)
		}
	}
	c.held, c.byKey, c.bytes = nil, nil, 0
	return out
}
