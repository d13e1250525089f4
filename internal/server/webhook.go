package server

import (
	"context"
	"net/http"

	"parley/internal/adminapi"
	"parley/internal/config"
	"parley/internal/jid"
	"parley/internal/webhook"
)

// newWebhooks serves [[webhook]] (internal/webhook) on the HTTPS
// listener: a hook to a JID of the MUC service posts into that room, and
// with a url sends the room's mentions of it out.
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
		room := to.Domain() == rooms.String()
		if c.URL != "" && !room {
			s.log.Warn("webhook: an outgoing hook needs a room; url ignored", "hook", c.ID, "to", c.To)
		}
		hooks = append(hooks, webhook.Hook{ID: c.ID, Token: c.Token, From: from, To: to, Room: room, Nick: nick,
			URL: c.URL, Secret: c.Secret, Keywords: c.Keywords, Attempts: c.Attempts, RetryDelay: c.RetryDelay.Duration})
	}
	s.webhooks = webhook.New(webhook.Options{Hooks: hooks, DeadLetters: s.store, Log: s.log.With("component", "webhook")})
	s.webhooks.Register(s.router)
}

// startWebhooks joins the outgoing hooks' rooms and starts their workers.
func (s *Server) startWebhooks(ctx context.Context) {
	if s.webhooks != nil {
		s.webhooks.Start(ctx)
	}
}

// webhookAPI is what the admin API shows of the webhooks, nil when none
// is configured.
func (s *Server) webhookAPI() adminapi.Webhooks {
	if s.webhooks == nil {
		return nil
	}
	return s.webhooks
}

// hooks is the webhooks' handler, nil when none is configured.
func (s *Server) hooks() http.Handler {
	if s.webhooks == nil {
		return nil
	}
	return s.webhooks.Handler()
}
