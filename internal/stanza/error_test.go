package stanza

import (
	"errors"
	"strconv"
	"testing"

	"parley/internal/xmlstream"
)

// TestErrorTable: a named value for each defined stanza error condition
// of RFC 6120 §8.3.3, with the type the RFC's examples give it.
func TestErrorTable(t *testing.T) {
	tests := []struct {
		e         *Error
		typ, cond string
	}{
		0:  {ErrBadRequest, "modify", "bad-request"},
		1:  {ErrConflict, "cancel", "conflict"},
		2:  {ErrFeatureNotImplemented, "cancel", "feature-not-implemented"},
		3:  {ErrForbidden, "auth", "forbidden"},
		4:  {ErrGone, "cancel", "gone"},
		5:  {ErrInternalServerError, "cancel", "internal-server-error"},
		6:  {ErrItemNotFound, "cancel", "item-not-found"},
		7:  {ErrJIDMalformed, "modify", "jid-malformed"},
		8:  {ErrNotAcceptable, "modify", "not-acceptable"},
		9:  {ErrNotAllowed, "cancel", "not-allowed"},
		10: {ErrNotAuthorized, "auth", "not-authorized"},
		11: {ErrPolicyViolation, "modify", "policy-violation"},
		12: {ErrRecipientUnavailable, "wait", "recipient-unavailable"},
		13: {ErrRedirect, "modify", "redirect"},
		14: {ErrRegistrationRequired, "auth", "registration-required"},
		15: {ErrRemoteServerNotFound, "cancel", "remote-server-not-found"},
		16: {ErrRemoteServerTimeout, "wait", "remote-server-timeout"},
		17: {ErrResourceConstraint, "wait", "resource-constraint"},
		18: {ErrServiceUnavailable, "cancel", "service-unavailable"},
		19: {ErrSubscriptionRequired, "auth", "subscription-required"},
		20: {ErrUndefinedCondition, "cancel", "undefined-condition"},
		21: {ErrUnexpectedRequest, "wait", "unexpected-request"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if tc.e.Type() != tc.typ || tc.e.Condition() != tc.cond {
				t.Fatalf("%s is %s/%s", tc.cond, tc.e.Type(), tc.e.Condition())
			}
			want := "<error xmlns='jabber:client' type='" + tc.typ + "'><" + tc.cond + " xmlns='" + NSStanzas + "'/></error>"
			if got := string(xmlstream.Append(nil, tc.e.Element())); got != want {
				t.Fatalf("element %s, want %s", got, want)
			}
		})
	}
}

// TestErrorCopies: WithText, WithType and WithApp change a copy, never
// the shared value, and the copy still matches its condition.
func TestErrorCopies(t *testing.T) {
	e := ErrItemNotFound.WithText("no such node").WithType("wait").WithApp(xmlstream.New("x", "urn:example"))
	if ErrItemNotFound.Text() != "" || ErrItemNotFound.Type() != "cancel" || len(ErrItemNotFound.Element().Children) != 1 {
		t.Fatalf("the shared value changed: %s", xmlstream.Append(nil, ErrItemNotFound.Element()))
	}
	if e.Text() != "no such node" || e.Type() != "wait" || len(e.Element().Children) != 3 {
		t.Fatalf("copy: %s", xmlstream.Append(nil, e.Element()))
	}
	if !errors.Is(e, ErrItemNotFound) || errors.Is(e, ErrNotAllowed) {
		t.Fatal("errors.Is does not match on the condition")
	}
}

// TestStreamErrorTable: a named value for each defined stream error
// condition of RFC 6120 §4.9.3, found by name; any other name is
// undefined-condition (§4.9.3.21).
func TestStreamErrorTable(t *testing.T) {
	tests := []struct {
		e    *StreamError
		cond string
	}{
		0:  {ErrStreamBadFormat, "bad-format"},
		1:  {ErrStreamBadNamespacePrefix, "bad-namespace-prefix"},
		2:  {ErrStreamConflict, "conflict"},
		3:  {ErrStreamConnectionTimeout, "connection-timeout"},
		4:  {ErrStreamHostGone, "host-gone"},
		5:  {ErrStreamHostUnknown, "host-unknown"},
		6:  {ErrStreamImproperAddressing, "improper-addressing"},
		7:  {ErrStreamInternalServerError, "internal-server-error"},
		8:  {ErrStreamInvalidFrom, "invalid-from"},
		9:  {ErrStreamInvalidNamespace, "invalid-namespace"},
		10: {ErrStreamInvalidXML, "invalid-xml"},
		11: {ErrStreamNotAuthorized, "not-authorized"},
		12: {ErrStreamNotWellFormed, "not-well-formed"},
		13: {ErrStreamPolicyViolation, "policy-violation"},
		14: {ErrStreamRemoteConnectionFailed, "remote-connection-failed"},
		15: {ErrStreamReset, "reset"},
		16: {ErrStreamResourceConstraint, "resource-constraint"},
		17: {ErrStreamRestrictedXML, "restricted-xml"},
		18: {ErrStreamSeeOtherHost, "see-other-host"},
		19: {ErrStreamSystemShutdown, "system-shutdown"},
		20: {ErrStreamUndefinedCondition, "undefined-condition"},
		21: {ErrStreamUnsupportedEncoding, "unsupported-encoding"},
		22: {ErrStreamUnsupportedFeature, "unsupported-feature"},
		23: {ErrStreamUnsupportedStanzaType, "unsupported-stanza-type"},
		24: {ErrStreamUnsupportedVersion, "unsupported-version"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if tc.e.Condition() != tc.cond || StreamCondition(tc.cond) != tc.e {
				t.Fatalf("%s: value %s, found %s", tc.cond, tc.e.Condition(), StreamCondition(tc.cond).Condition())
			}
			want := "<error xmlns='" + NSStreams + "'><" + tc.cond + " xmlns='" + NSStream + "'/></error>"
			if got := string(xmlstream.Append(nil, tc.e.Element())); got != want {
				t.Fatalf("element %s, want %s", got, want)
			}
		})
	}
	if len(tests) != len(streamTable) {
		t.Fatalf("%d conditions tested, %d in the table", len(tests), len(streamTable))
	}
	if StreamCondition("no-such-condition") != ErrStreamUndefinedCondition {
		t.Fatal("an unknown condition is not undefined-condition")
	}
	e := ErrStreamPolicyViolation.WithText("stanza too large")
	if ErrStreamPolicyViolation.Text() != "" || e.Text() != "stanza too large" || !errors.Is(e, ErrStreamPolicyViolation) {
		t.Fatal("WithText changed the shared value or lost the condition")
	}
}
