package xmpptest

import (
	"strings"

	"parley/internal/xmlstream"
)

// Matchers for Expect.

// Stanza matches a stanza of the given name ("message", "presence",
// "iq"), type ("" matches any) and sender whose bare or full JID is from
// ("" matches any).
func Stanza(name, typ, from string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		if el.Name != name || el.Space != NSClient {
			return false
		}
		if typ != "" && el.Get("type") != typ {
			return false
		}
		if from != "" {
			f := el.Get("from")
			bare, _, _ := strings.Cut(f, "/")
			if f != from && bare != from {
				return false
			}
		}
		return true
	}
}

// MessageBody matches a message carrying exactly body.
func MessageBody(body string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.ChildText("body", "") == body
	}
}

// IsStreamError matches any stream error.
func IsStreamError(el *xmlstream.Element) bool { return StreamErrorCondition(el) != "" }
