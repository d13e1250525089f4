package server

import (
	"parley/internal/config"
	"parley/internal/im/disco"
	"parley/internal/proxy65"
)

// newProxy65 builds the SOCKS5 bytestreams proxy (XEP-0065) at
// proxy.<domain> and lists it in the domain's disco#items, unless
// [listen] proxy65 is off; Start serves its listener, Stop closes it.
func (s *Server) newProxy65(cfg config.Config, items *disco.Module) {
	if cfg.Listen.Proxy65 == "" || cfg.Listen.Proxy65 == config.Off {
		return
	}
	p := cfg.Proxy65
	s.proxy65 = proxy65.New(proxy65.Options{Host: p.Host, Port: p.Port, MaxConnections: p.MaxConnections,
		MaxConnectionsPerIP: p.MaxConnectionsPerIP,
		MaxStreamsPerUser:   p.MaxStreamsPerUser, BytesPerSecond: p.BytesPerSecond,
		IdleTimeout: p.IdleTimeout.Duration, Log: s.log.With("component", "proxy65")})
	s.proxy65.Register(s.router)
	items.AddItem(s.proxy65.JID(), "SOCKS5 Bytestreams")
}

// serveProxy65 opens the proxy's listener (Start).
func (s *Server) serveProxy65() error {
	if s.proxy65 == nil {
		return nil
	}
	return s.serve("proxy65", s.cfg.Listen.Proxy65, s.proxy65.Serve)
}

// closeProxy65 ends the proxy's connections once its listener is closed
// (Stop).
func (s *Server) closeProxy65() {
	if s.proxy65 != nil {
		s.proxy65.Close()
	}
}
