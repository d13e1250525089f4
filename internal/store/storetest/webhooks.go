package storetest

import (
	"context"
	"strings"
	"testing"

	"parley/internal/store"
)

// WebhookDeadLetters is the suite of the webhook dead-letter conformance cases.
var WebhookDeadLetters = Suite{deadLetterCases, nil}

var deadLetterCases = []scenario{
	{"newest_kept_in_order", func(t *testing.T, ctx context.Context, s store.Store) {
		want := func(letters ...string) {
			t.Helper()
			got, err := s.WebhookDeadLetters(ctx)
			var gs []string
			for _, l := range got {
				gs = append(gs, string(l))
			}
			if err != nil || strings.Join(gs, ",") != strings.Join(letters, ",") {
				t.Errorf("WebhookDeadLetters = %q, %v; want %q", gs, err, letters)
			}
		}
		want()
		for _, l := range []string{`{"n":1}`, `{"n":2}`, `{"n":3}`} {
			wantErr(t, "AddWebhookDeadLetter", s.AddWebhookDeadLetter(ctx, []byte(l), 2), nil)
		}
		want(`{"n":2}`, `{"n":3}`)
		wantErr(t, "AddWebhookDeadLetter", s.AddWebhookDeadLetter(ctx, []byte(`{"n":4}`), 3), nil)
		want(`{"n":2}`, `{"n":3}`, `{"n":4}`)
	}},
}
