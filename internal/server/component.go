package server

import (
	"parley/internal/config"
	"parley/internal/im/disco"
	"parley/internal/jid"
	"parley/internal/s2s"
	"parley/internal/xmlstream"
)

// newComponents accepts the external components of [[component]]
// (XEP-0114) when there are any and [listen] component is on: each
// domain is routed to its component and listed in disco#items.
func (s *Server) newComponents(cfg config.Config, items *disco.Module) {
	if len(cfg.Components) == 0 || cfg.Listen.Component == config.Off || cfg.Listen.Component == "" {
		return
	}
	secrets := make(map[string]string, len(cfg.Components))
	for _, c := range cfg.Components {
		secrets[c.Domain] = c.Secret
	}
	s.components = s2s.NewComponents(s2s.ComponentOptions{Secrets: secrets,
		Limits: xmlstream.Limits{MaxStanza: cfg.Limits.MaxStanza, MaxDepth: cfg.Limits.MaxDepth},
		Log:    s.log.With("component", "components")})
	s.components.Register(s.router)
	for _, d := range s.components.Domains() {
		if j, err := jid.Parse(d); err == nil { // Validate refused the rest
			items.AddItem(j, "")
		}
	}
}

// serveComponents opens [listen] component (Start).
func (s *Server) serveComponents() error {
	if s.components == nil {
		return nil
	}
	return s.serve("component", s.cfg.Listen.Component, s.components.Serve)
}

// closeComponents ends the components' streams once the listener is
// closed (Stop).
func (s *Server) closeComponents() {
	if s.components != nil {
		s.components.Close()
	}
}
