package stanza

import "parley/internal/xmlstream"

// StreamError is a stream-level error (RFC 6120 §4.9): it ends the
// stream. Like Error, values are immutable (WithText returns a copy) and
// match by condition.
type StreamError struct {
	condition string // a defined condition of §4.9.3
	text      string
}

// Condition is the defined condition (RFC 6120 §4.9.3).
func (e *StreamError) Condition() string { return e.condition }

// Text is the human-readable explanation, if any.
func (e *StreamError) Text() string { return e.text }

func (e *StreamError) Error() string {
	if e.text != "" {
		return "stream error " + e.condition + ": " + e.text
	}
	return "stream error " + e.condition
}

// Is makes errors.Is match on the condition.
func (e *StreamError) Is(target error) bool {
	t, ok := target.(*StreamError)
	return ok && t.condition == e.condition
}

// WithText returns a copy with a human-readable explanation.
func (e *StreamError) WithText(text string) *StreamError {
	c := *e
	c.text = text
	return &c
}

// Element is the <stream:error/> element.
func (e *StreamError) Element() *xmlstream.Element {
	el := xmlstream.New("error", NSStreams)
	el.Add(xmlstream.New(e.condition, NSStream))
	if e.text != "" {
		el.Add(xmlstream.NewText("text", NSStream, e.text))
	}
	return el
}

// The defined stream error conditions (RFC 6120 §4.9.3).
var (
	ErrStreamBadFormat              = &StreamError{condition: "bad-format"}
	ErrStreamBadNamespacePrefix     = &StreamError{condition: "bad-namespace-prefix"}
	ErrStreamConflict               = &StreamError{condition: "conflict"}
	ErrStreamConnectionTimeout      = &StreamError{condition: "connection-timeout"}
	ErrStreamHostGone               = &StreamError{condition: "host-gone"}
	ErrStreamHostUnknown            = &StreamError{condition: "host-unknown"}
	ErrStreamImproperAddressing     = &StreamError{condition: "improper-addressing"}
	ErrStreamInternalServerError    = &StreamError{condition: "internal-server-error"}
	ErrStreamInvalidFrom            = &StreamError{condition: "invalid-from"}
	ErrStreamInvalidNamespace       = &StreamError{condition: "invalid-namespace"}
	ErrStreamInvalidXML             = &StreamError{condition: "invalid-xml"}
	ErrStreamNotAuthorized          = &StreamError{condition: "not-authorized"}
	ErrStreamNotWellFormed          = &StreamError{condition: "not-well-formed"}
	ErrStreamPolicyViolation        = &StreamError{condition: "policy-violation"}
	ErrStreamRemoteConnectionFailed = &StreamError{condition: "remote-connection-failed"}
	ErrStreamReset                  = &StreamError{condition: "reset"}
	ErrStreamResourceConstraint     = &StreamError{condition: "resource-constraint"}
	ErrStreamRestrictedXML          = &StreamError{condition: "restricted-xml"}
	ErrStreamSeeOtherHost           = &StreamError{condition: "see-other-host"}
	ErrStreamSystemShutdown         = &StreamError{condition: "system-shutdown"}
	ErrStreamUndefinedCondition     = &StreamError{condition: "undefined-condition"}
	ErrStreamUnsupportedEncoding    = &StreamError{condition: "unsupported-encoding"}
	ErrStreamUnsupportedFeature     = &StreamError{condition: "unsupported-feature"}
	ErrStreamUnsupportedStanzaType  = &StreamError{condition: "unsupported-stanza-type"}
	ErrStreamUnsupportedVersion     = &StreamError{condition: "unsupported-version"}
)

// streamTable is the table above, for StreamCondition.
var streamTable = []*StreamError{
	ErrStreamBadFormat, ErrStreamBadNamespacePrefix, ErrStreamConflict, ErrStreamConnectionTimeout,
	ErrStreamHostGone, ErrStreamHostUnknown, ErrStreamImproperAddressing, ErrStreamInternalServerError,
	ErrStreamInvalidFrom, ErrStreamInvalidNamespace, ErrStreamInvalidXML, ErrStreamNotAuthorized,
	ErrStreamNotWellFormed, ErrStreamPolicyViolation, ErrStreamRemoteConnectionFailed, ErrStreamReset,
	ErrStreamResourceConstraint, ErrStreamRestrictedXML, ErrStreamSeeOtherHost, ErrStreamSystemShutdown,
	ErrStreamUndefinedCondition, ErrStreamUnsupportedEncoding, ErrStreamUnsupportedFeature,
	ErrStreamUnsupportedStanzaType, ErrStreamUnsupportedVersion,
}

// StreamCondition returns the table's value for a condition of RFC 6120
// §4.9.3, or undefined-condition for any other name (§4.9.3.21), e.g. for
// a condition reported by the XML reader.
func StreamCondition(name string) *StreamError {
	for _, e := range streamTable {
		if e.condition == name {
			return e
		}
	}
	return ErrStreamUndefinedCondition
}
