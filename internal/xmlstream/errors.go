package xmlstream

// Stream error conditions (RFC 6120 §4.9.3) that reading can produce.
const (
	// NotWellFormed: bad syntax, bad UTF-8, characters XML forbids,
	// mismatched tags, unbound prefixes (RFC 6120 §4.9.3.13).
	NotWellFormed = "not-well-formed"
	// RestrictedXML: comments, processing instructions, DTDs and entity
	// references other than the predefined ones (RFC 6120 §4.9.3.18, §11.1).
	RestrictedXML = "restricted-xml"
	// PolicyViolation: a Limits field was exceeded (RFC 6120 §4.9.3.14).
	PolicyViolation = "policy-violation"
	// UnsupportedEncoding: an XML declaration named an encoding other than
	// UTF-8 (RFC 6120 §4.9.3.22, §11.6).
	UnsupportedEncoding = "unsupported-encoding"
)

// SyntaxError is returned for input the server must reject. Condition is
// the stream error condition to send; Reason is for logs and tests and is
// never sent to the peer.
type SyntaxError struct {
	Condition string
	Reason    string
}

func (e *SyntaxError) Error() string {
	return "xmlstream: " + e.Condition + ": " + e.Reason
}

func errNWF(reason string) error        { return &SyntaxError{NotWellFormed, reason} }
func errRestricted(reason string) error { return &SyntaxError{RestrictedXML, reason} }
func errPolicy(reason string) error     { return &SyntaxError{PolicyViolation, reason} }
