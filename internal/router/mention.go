package router

import "strings"

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
