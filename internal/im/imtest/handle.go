package imtest

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Handle runs the IQ handler h on raw. With want set, h must fail with
// it and Handle returns false: the case ends there. Without, h must
// succeed, and Handle returns its result and true.
func Handle(t testing.TB, h func(context.Context, *stanza.Stanza) (*xmlstream.Element, error), raw string, want *stanza.Error) (*xmlstream.Element, bool) {
	t.Helper()
	res, err := h(context.Background(), Parse(t, raw))
	if want != nil {
		if !errors.Is(err, want) {
			t.Fatalf("err = %v, want %v", err, want)
		}
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return res, true
}

// HandleXML is Handle that compares h's result, written as in a
// jabber:client stream ("" for none), with want.
func HandleXML(t testing.TB, h func(context.Context, *stanza.Stanza) (*xmlstream.Element, error), raw string, wantErr *stanza.Error, want string) {
	t.Helper()
	res, ok := Handle(t, h, raw, wantErr)
	if !ok {
		return
	}
	got := ""
	if res != nil {
		got = string(xmlstream.AppendIn(nil, res, stanza.NSClient))
	}
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// XMLCase is one request to an IQ handler and its answer: the error Err
// or, without one, the result payload Want as HandleXML compares it.
type XMLCase struct {
	IQ   string
	Want string // serialised result payload; "" for an empty result
	Err  *stanza.Error
}

// RunXML runs each case as a subtest named by its index, with HandleXML,
// on the handler that newHandler returns afresh for it.
func RunXML(t *testing.T, cases []XMLCase, newHandler func() router.IQHandler) {
	t.Helper()
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			HandleXML(t, newHandler(), tc.IQ, tc.Err, tc.Want)
		})
	}
}

// Reparse writes el and parses it back: a result must stand alone once
// written, without the prefixes bound around it in the request.
func Reparse(t testing.TB, el *xmlstream.Element) *xmlstream.Element {
	t.Helper()
	back, err := xmlstream.Parse(xmlstream.Append(nil, el), xmlstream.Limits{})
	if err != nil {
		t.Fatalf("%s does not stand alone: %v", xmlstream.Append(nil, el), err)
	}
	return back
}
