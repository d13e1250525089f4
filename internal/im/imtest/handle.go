package imtest

import (
	"context"
	"errors"
	"testing"

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
