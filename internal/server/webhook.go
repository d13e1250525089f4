package server

import (
	"net/http"

	"parley/internal/config"
	"parley/internal/jid"
	"parley/internal/webhook"
)

// newWebhooks serves [[webhook]] (internal/webhook) on the HTTPS
// listener: a hook to a JID of the MUC service posts into that room.
func (s *Server) newWebhooks(cfg config.Config, rooms jid.JID) {
	if len(cfg.Webhooks) == 0 {
		return
	}
	var hooks []webhook.Hook
	for _, c := range cfg.Webhooks {
		from, err := jid.Parse(c.From)
		if c.From == "" {
			from, err = jid.New("webhook", cfg.Domain, "")
		}
		to, err2 := jid.Parse(c.To)
		if err != nil || err2 != nil {
			continue // Validate refused it
		}
		nick := c.Nick
		if nick == "" {
			nick = c.ID
		}
		hooks = append(hooks, webhook.Hook{ID: c.ID, Token: c.Token, From: from, To: to, Room: to.Domain() == rooms.String(), Nick: nick})
	}
	s.webhooks = webhook.New(webhook.Options{Hooks: hooks, Log: s.log.With("component", "webhook")})
	s.webhooks.Register(s.router)
}

// hooks is the webhooks' handler, nil when none is configured.
func (s *Server) hooks() http.Handler {
	if s.webhooks == nil {
		return nil
	}
	return s.webhooks.Handler()
}
