package config

import (
	"fmt"

	"parley/internal/jid"
)

// minWebhookToken is the shortest hook token accepted.
const minWebhookToken = 16

// Webhook is an incoming webhook (internal/webhook), written [[webhook]]:
// POST /api/v1/hooks/<id> on the HTTPS listener with the token posts a
// message to a room or a user.
type Webhook struct {
	// ID names the hook in its URL: letters, digits, '-' and '_'.
	ID string `toml:"id"`
	// Token is the secret a post presents (Authorization: Bearer, or
	// ?token=), at least 16 characters.
	Token string `toml:"token"`
	// From is the hook's bare JID, an account of this server (a bot);
	// default webhook@<domain>.
	From string `toml:"from"`
	// To is a room's bare JID (conference.<domain>) or a user's.
	To string `toml:"to"`
	// Nick is the hook's nickname in a room (default: the id).
	Nick string `toml:"nick"`
}

func validateWebhooks(hs []Webhook, domain string) []error {
	var errs []error
	seen := make(map[string]bool)
	for i, h := range hs {
		bad := func(msg string) { errs = append(errs, &KeyError{Key: fmt.Sprintf("webhook[%d]", i), Msg: msg}) }
		switch {
		case !validHookID(h.ID):
			bad(fmt.Sprintf("id %q: use 1 to 64 letters, digits, '-' or '_'", h.ID))
		case seen[h.ID]:
			bad(fmt.Sprintf("id %q is used twice", h.ID))
		}
		seen[h.ID] = true
		if len(h.Token) < minWebhookToken {
			bad(fmt.Sprintf("token must be at least %d characters", minWebhookToken))
		}
		if h.From != "" {
			if j, err := jid.Parse(h.From); err != nil || !j.IsBare() || j.Local() == "" || j.Domain() != domain {
				bad(fmt.Sprintf("from %q is not the bare JID of an account of %s", h.From, domain))
			}
		}
		if j, err := jid.Parse(h.To); err != nil || !j.IsBare() || j.Local() == "" {
			bad(fmt.Sprintf("to %q is not the bare JID of a room or a user", h.To))
		}
	}
	return errs
}

func validHookID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
