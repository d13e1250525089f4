package config

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestValidateWebhooks: the rules of [[webhook]], incoming and outgoing.
func TestValidateWebhooks(t *testing.T) {
	const tok = "0123456789abcdef"
	in := Webhook{ID: "ci", Token: tok, To: "ops@conference.example.com"}
	out := Webhook{ID: "bot", To: "ops@conference.example.com", URL: "https://bots.example.com/x", Secret: tok}
	with := func(h Webhook, f func(*Webhook)) Webhook { f(&h); return h }
	tests := []struct {
		h    Webhook
		want string // "" = valid
	}{
		{in, ""},
		{out, ""},
		{with(out, func(h *Webhook) { h.URL = "http://127.0.0.1:8080/x" }), ""},
		{with(out, func(h *Webhook) { h.URL = "http://localhost/x"; h.Attempts = 3; h.RetryDelay.Duration = time.Second }), ""},
		{with(in, func(h *Webhook) { h.Token = "" }), "token"},
		{with(out, func(h *Webhook) { h.URL = "http://bots.example.com/x" }), "url"},
		{with(out, func(h *Webhook) { h.URL = "ftp://x/" }), "url"},
		{with(out, func(h *Webhook) { h.Secret = "short" }), "secret"},
		{with(out, func(h *Webhook) { h.Token = "short" }), "token"},
		{with(in, func(h *Webhook) { h.Keywords = []string{"x"} }), "need url"},
		{with(out, func(h *Webhook) { h.Attempts = 21 }), "attempts"},
		{with(out, func(h *Webhook) { h.RetryDelay.Duration = -time.Second }), "retry_delay"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			errs := validateWebhooks([]Webhook{tc.h}, "example.com")
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Errorf("errors %v", errs)
			case tc.want != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want)):
				t.Errorf("errors %v, want one about %q", errs, tc.want)
			}
		})
	}
}
