package router

import (
	"strings"

	"parley/internal/jid"
	"parley/internal/stanza"
)

// Mentions reports whether a message body names nick as a word, in any
// case: how a groupchat message addresses one occupant (a "mention";
// XEP-0045 has no markup for it, clients write the nickname). Push
// notifications and client state indication use it to tell a mention
// from room chatter.
func Mentions(body, nick string) bool {
	if nick == "" {
		return false
	}
	b, n := strings.ToLower(body), strings.ToLower(nick)
	for i := 0; ; {
		j := strings.Index(b[i:], n)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(n)
		if (start == 0 || !isWordByte(b[start-1])) && (end == len(b) || !isWordByte(b[end])) {
			return true
		}
		i = start + 1
	}
}

// isWordByte tells the bytes that continue a word: letters, digits, the
// joiners nicknames use, and any byte of a non-ASCII character.
func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 0x80
}

// Nicknamed is implemented by sessions that know the nickname they joined
// a room with (c2s sessions, from their presence to room/nick).
type Nicknamed interface {
	Nickname(room jid.JID) (string, bool)
}

// Nickname is the recipient's nickname in the room a groupchat message
// comes from: the one the receiving session joined with, else the
// account's name (the default nickname of most clients); "" for other
// messages.
func (r *Router) Nickname(st *stanza.Stanza) string {
	if st.Type != "groupchat" {
		return ""
	}
	if res, ok := r.Lookup(st.To); ok {
		if n, ok := res.Session.(Nicknamed); ok {
			if nick, ok := n.Nickname(st.From.Bare()); ok {
				return nick
			}
		}
	}
	return st.To.Local()
}

// Namespaces of the payloads that make a message notable without a body.
const (
	nsJingleMessage = "urn:xmpp:jingle-message:0"
	nsOMEMO         = "eu.siacs.conversations.axolotl"
	nsOMEMO2        = "urn:xmpp:omemo:2"
)

// Notable tells a message that a user away from their clients wants to
// hear of (push notifications, email digests): one with a body (or an
// encrypted payload, whose body may be a fallback) to the user, a call
// (XEP-0353 propose), or a groupchat message that mentions nick, the
// user's nickname in the room. Chat states, receipts, markers and room
// chatter are not.
func Notable(st *stanza.Stanza, nick string) bool {
	if st.Kind != stanza.Message {
		return false
	}
	body := st.El.ChildText("body", "")
	switch st.Type {
	case "groupchat":
		return body != "" && Mentions(body, nick)
	case "headline", "error":
		return false
	}
	if body != "" || st.El.Child("propose", nsJingleMessage) != nil {
		return true
	}
	return st.El.Child("encrypted", nsOMEMO) != nil || st.El.Child("encrypted", nsOMEMO2) != nil
}
