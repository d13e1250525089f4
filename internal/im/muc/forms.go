package muc

import (
	"errors"

	"parley/internal/dataform"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// formLimits bound the data forms a room reads: the largest, the room
// configuration, has 19 fields of one value each.
var formLimits = dataform.Limits{Fields: 64, Values: 16, Bytes: 16 << 10}

// readSubmission parses a data form a client submitted (XEP-0004 §3.3)
// and checks that it is a submission of formType. An empty submission,
// which carries no FORM_TYPE, is accepted when emptyOK (an instant room's
// "accept the defaults", XEP-0045 §10.1.2). Anything else is a bad
// request, as XEP-0045 answers a form it cannot process.
func readSubmission(x *xmlstream.Element, formType string, emptyOK bool) (*dataform.Form, *stanza.Error) {
	f, err := dataform.Parse(x, formLimits)
	if err != nil {
		return nil, stanzaError(err)
	}
	if f.Type != dataform.TypeSubmit || (f.FormType() != formType && !(emptyOK && len(f.Fields) == 0)) {
		return nil, stanza.ErrBadRequest.WithText("not a " + formType + " form submission")
	}
	return f, nil
}

// stanzaError returns the stanza error in err (dataform returns only
// those), or bad-request.
func stanzaError(err error) *stanza.Error {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se
	}
	return stanza.ErrBadRequest
}
