package stanza

import (
	"parley/internal/xmlstream"
)

// Error is a stanza error (RFC 6120 §8.3). Values are immutable: the
// table below names each defined condition with its usual type, and
// WithText, WithType and WithApp return changed copies, so that no caller
// can change what another one returns. Errors match by condition:
// errors.Is(err, stanza.ErrItemNotFound) holds for any type and text.
type Error struct {
	typ       string // auth, cancel, continue, modify, wait
	condition string // a defined condition of §8.3.3
	text      string
	app       *xmlstream.Element // application-specific condition, or nil
}

// Type is the error type: auth, cancel, continue, modify or wait.
func (e *Error) Type() string { return e.typ }

// Condition is the defined condition (RFC 6120 §8.3.3).
func (e *Error) Condition() string { return e.condition }

// Text is the human-readable explanation, if any.
func (e *Error) Text() string { return e.text }

func (e *Error) Error() string {
	if e.text != "" {
		return "stanza error " + e.condition + ": " + e.text
	}
	return "stanza error " + e.condition
}

// Is makes errors.Is match on the condition.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.condition == e.condition
}

// WithText returns a copy with a human-readable explanation.
func (e *Error) WithText(text string) *Error {
	c := *e
	c.text = text
	return &c
}

// WithType returns a copy of another type than the condition's usual one
// (e.g. service-unavailable of type wait for a full room).
func (e *Error) WithType(typ string) *Error {
	c := *e
	c.typ = typ
	return &c
}

// WithApp returns a copy carrying an application-specific condition
// element (RFC 6120 §8.3.4, e.g. XEP-0191's <blocked/>), which must not
// be changed afterwards.
func (e *Error) WithApp(app *xmlstream.Element) *Error {
	c := *e
	c.app = app
	return &c
}

// Element is the <error/> child of an error stanza.
func (e *Error) Element() *xmlstream.Element {
	el := xmlstream.New("error", NSClient, "type", e.typ)
	el.Add(xmlstream.New(e.condition, NSStanzas))
	if e.text != "" {
		el.Add(xmlstream.NewText("text", NSStanzas, e.text))
	}
	if e.app != nil {
		el.Add(e.app)
	}
	return el
}

// The defined conditions with their usual types (RFC 6120 §8.3.3).
var (
	ErrBadRequest            = &Error{typ: "modify", condition: "bad-request"}
	ErrConflict              = &Error{typ: "cancel", condition: "conflict"}
	ErrFeatureNotImplemented = &Error{typ: "cancel", condition: "feature-not-implemented"}
	ErrForbidden             = &Error{typ: "auth", condition: "forbidden"}
	ErrGone                  = &Error{typ: "cancel", condition: "gone"}
	ErrInternalServerError   = &Error{typ: "cancel", condition: "internal-server-error"}
	ErrItemNotFound          = &Error{typ: "cancel", condition: "item-not-found"}
	ErrJIDMalformed          = &Error{typ: "modify", condition: "jid-malformed"}
	ErrNotAcceptable         = &Error{typ: "modify", condition: "not-acceptable"}
	ErrNotAllowed            = &Error{typ: "cancel", condition: "not-allowed"}
	ErrNotAuthorized         = &Error{typ: "auth", condition: "not-authorized"}
	ErrPolicyViolation       = &Error{typ: "modify", condition: "policy-violation"}
	ErrRecipientUnavailable  = &Error{typ: "wait", condition: "recipient-unavailable"}
	ErrRedirect              = &Error{typ: "modify", condition: "redirect"}
	ErrRegistrationRequired  = &Error{typ: "auth", condition: "registration-required"}
	ErrRemoteServerNotFound  = &Error{typ: "cancel", condition: "remote-server-not-found"}
	ErrRemoteServerTimeout   = &Error{typ: "wait", condition: "remote-server-timeout"}
	ErrResourceConstraint    = &Error{typ: "wait", condition: "resource-constraint"}
	ErrServiceUnavailable    = &Error{typ: "cancel", condition: "service-unavailable"}
	ErrSubscriptionRequired  = &Error{typ: "auth", condition: "subscription-required"}
	ErrUndefinedCondition    = &Error{typ: "cancel", condition: "undefined-condition"}
	ErrUnexpectedRequest     = &Error{typ: "wait", condition: "unexpected-request"}
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
