package stanza

import (
	"parley/internal/xmlstream"
)

// Error is a stanza error (RFC 6120 §8.3). Values are compared by Condition:
// errors.Is(err, stanza.ErrItemNotFound) holds for any text.
type Error struct {
	Type      string // auth, cancel, continue, modify, wait
	Condition string // a defined condition of §8.3.3
	Text      string
	// App is an optional application-specific condition element
	// (e.g. XEP-0191's <blocked/>).
	App *xmlstream.Element
}

func (e *Error) Error() string {
	if e.Text != "" {
		return "stanza error " + e.Condition + ": " + e.Text
	}
	return "stanza error " + e.Condition
}

// Is makes errors.Is match on the condition.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Condition == e.Condition
}

// WithText returns a copy with a human-readable explanation.
func (e *Error) WithText(text string) *Error {
	c := *e
	c.Text = text
	return &c
}

// Element is the <error/> child of an error stanza.
func (e *Error) Element() *xmlstream.Element {
	el := xmlstream.New("error", NSClient, "type", e.Type)
	el.Add(xmlstream.New(e.Condition, NSStanzas))
	if e.Text != "" {
		el.Add(xmlstream.NewText("text", NSStanzas, e.Text))
	}
	if e.App != nil {
		el.Add(e.App)
	}
	return el
}

// The defined conditions with their usual types (RFC 6120 §8.3.3).
var (
	ErrBadRequest            = &Error{Type: "modify", Condition: "bad-request"}
	ErrConflict              = &Error{Type: "cancel", Condition: "conflict"}
	ErrFeatureNotImplemented = &Error{Type: "cancel", Condition: "feature-not-implemented"}
	ErrForbidden             = &Error{Type: "auth", Condition: "forbidden"}
	ErrGone                  = &Error{Type: "cancel", Condition: "gone"}
	ErrInternalServerError   = &Error{Type: "cancel", Condition: "internal-server-error"}
	ErrItemNotFound          = &Error{Type: "cancel", Condition: "item-not-found"}
	ErrJIDMalformed          = &Error{Type: "modify", Condition: "jid-malformed"}
	ErrNotAcceptable         = &Error{Type: "modify", Condition: "not-acceptable"}
	ErrNotAllowed            = &Error{Type: "cancel", Condition: "not-allowed"}
	ErrNotAuthorized         = &Error{Type: "auth", Condition: "not-authorized"}
	ErrPolicyViolation       = &Error{Type: "modify", Condition: "policy-violation"}
	ErrRecipientUnavailable  = &Error{Type: "wait", Condition: "recipient-unavailable"}
	ErrRemoteServerNotFound  = &Error{Type: "cancel", Condition: "remote-server-not-found"}
	ErrResourceConstraint    = &Error{Type: "wait", Condition: "resource-constraint"}
	ErrServiceUnavailable    = &Error{Type: "cancel", Condition: "service-unavailable"}
	ErrUndefinedCondition    = &Error{Type: "cancel", Condition: "undefined-condition"}
	ErrUnexpectedRequest     = &Error{Type: "wait", Condition: "unexpected-request"}
)

// ErrorReply builds the error response to s: addresses swapped, type
// "error", the original payload included as RFC 6120 §8.3.1 recommends.
// It returns nil for a stanza of type error, which must never be answered
// (§8.3.1: an entity MUST NOT respond to an error with an error).
func ErrorReply(s *Stanza, e *Error) *Stanza {
	if s.Type == "error" || (s.Kind == IQ && s.Type == "result") {
		return nil
	}
	r := New(s.Kind, s.To, s.From, "error", s.ID)
	r.El.Children = append(r.El.Children, s.El.Children...)
	r.El.Add(e.Element())
	return r
}

// StreamError is a stream-level error (RFC 6120 §4.9): it ends the stream.
type StreamError struct {
	Condition string // a defined condition of §4.9.3
	Text      string
}

func (e *StreamError) Error() string {
	if e.Text != "" {
		return "stream error " + e.Condition + ": " + e.Text
	}
	return "stream error " + e.Condition
}

// Is makes errors.Is match on the condition.
func (e *StreamError) Is(target error) bool {
	t, ok := target.(*StreamError)
	return ok && t.Condition == e.Condition
}

// Element is the <stream:error/> element.
func (e *StreamError) Element() *xmlstream.Element {
	el := xmlstream.New("error", NSStreams)
	el.Add(xmlstream.New(e.Condition, NSStream))
	if e.Text != "" {
		el.Add(xmlstream.NewText("text", NSStream, e.Text))
	}
	return el
}
