package config

import (
	"fmt"
	"net/url"

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

	// URL makes the hook outgoing too: a groupchat message in its room
	// that mentions Nick or contains one of Keywords is POSTed there as a
	// JSON event signed with Secret (https://, or http:// to loopback).
	URL string `toml:"url"`
	// Secret keys the HMAC-SHA256 of the event (X-Parley-Signature), at
	// least 16 characters; required with url.
	Secret string `toml:"secret"`
	// Keywords trigger the hook besides a mention of its nick (matched
	// case-insensitively as whole words).
	Keywords []string `toml:"keywords"`
	// Attempts bounds the deliveries of one event (default 5); after the
	// last failure the event goes to the dead-letter list.
	Attempts int `toml:"attempts"`
	// RetryDelay is the wait after the first failed attempt, doubled after
	// each further one (default 1s); also the first wait before joining
	// the room again when the hook was removed from it.
	RetryDelay Duration `toml:"retry_delay"`
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
		if len(h.Token) < minWebhookToken && (h.Token != "" || h.URL == "") {
			bad(fmt.Sprintf("token must be at least %d characters", minWebhookToken))
		}
		if h.URL != "" {
			if u, err := url.Parse(h.URL); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname()))) {
				bad(fmt.Sprintf("url %q: use https://, or http:// to a loopback address", h.URL))
			}
			if len(h.Secret) < minWebhookToken {
				bad(fmt.Sprintf("secret must be at least %d characters", minWebhookToken))
			}
		}
		if h.URL == "" && (h.Secret != "" || len(h.Keywords) > 0) {
			bad("secret and keywords need url")
		}
		if h.Attempts < 0 || h.Attempts > 20 {
			bad(fmt.Sprintf("attempts %d: use 1 to 20", h.Attempts))
		}
		if h.RetryDelay.Duration < 0 {
			bad("retry_delay is negative")
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
