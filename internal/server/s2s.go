package server

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/s2s"
	"parley/internal/transport"
	"parley/internal/xmlstream"
)

// newS2S builds federation (internal/s2s) when [s2s] mode is not off and
// makes it the router's Remote; otherwise other domains keep getting
// remote-server-not-found. Start serves [listen] s2s, Stop closes it.
func (s *Server) newS2S(cfg config.Config) error {
	if !cfg.S2SOn() {
		return nil
	}
	tlsCfg := s.tls
	if tlsCfg == nil { // no c2s listener loaded the certificate
		cert, err := transport.LoadOrCreateCert(cfg.Data, cfg.Domain, cfg.Cert, cfg.Key)
		if err != nil {
			return err
		}
		s.certs = new(transport.Certs)
		s.certs.Set(cert)
		s.tls = s.certs.TLSConfig()
		tlsCfg = s.tls
	}
	var roots *x509.CertPool // nil: the system roots
	if cfg.S2S.CA != "" {
		pem, err := os.ReadFile(cfg.S2S.CA)
		if err != nil {
			return fmt.Errorf("server: s2s.ca: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("server: s2s.ca: no certificate in %s", cfg.S2S.CA)
		}
	}
	// XEP-0185: keys must verify across restarts, so the secret is kept.
	secret, err := s2s.LoadOrCreateSecret(filepath.Join(cfg.Data, "dialback.secret"))
	if err != nil {
		return err
	}
	c := cfg.S2S
	s.s2s = s2s.New(s2s.Options{Domain: s.router.Domain(), TLS: tlsCfg, Roots: roots, SecureAuth: c.SecureAuth, Secret: secret,
		Routes: c.Routes, Mode: c.Mode, Allow: c.Allow, Deny: c.Deny,
		Limits:   xmlstream.Limits{MaxStanza: cfg.Limits.MaxStanza, MaxDepth: cfg.Limits.MaxDepth},
		MaxQueue: c.MaxQueue, Timeout: c.Timeout.Duration, Rate: c.StanzaRate, Burst: c.StanzaBurst,
		PingInterval: c.PingInterval.Duration, PingTimeout: c.PingTimeout.Duration,
		Log: s.log.With("component", "s2s"), OnEvent: s.auditS2S})
	s.s2s.Register(s.router)
	return nil
}

// serveS2S opens [listen] s2s and s2s_tls (Start).
func (s *Server) serveS2S() error {
	if s.s2s == nil {
		return nil
	}
	if err := s.serve("s2s", s.cfg.Listen.S2S, s.s2s.Serve); err != nil {
		return err
	}
	return s.serve("s2s_tls", s.cfg.Listen.S2STLS, s.s2s.ServeDirectTLS)
}

// closeS2S ends the links once the listener is closed (Stop); stanzas
// still waiting bounce.
func (s *Server) closeS2S() {
	if s.s2s != nil {
		s.s2s.Close()
	}
}

// auditS2S counts each authenticated link (parley_s2s_links_total) and
// records each new remote domain (once per direction, with how the link
// authenticated) and each refusal (issue 15: "logged and audited").
func (s *Server) auditS2S(e s2s.Event) {
	if !e.Refused {
		s.metrics.S2SLink(e.Direction, e.Auth)
		if !e.First {
			return
		}
	}
	r := audit.Record{Actor: e.Domain, Target: e.Domain, Action: audit.ActionFederationLink,
		Outcome: audit.OutcomeSuccess, Details: map[string]string{"direction": e.Direction, "auth": e.Auth}}
	if e.Refused {
		r.Action, r.Outcome = audit.ActionFederationRefused, audit.OutcomeDenied
		r.Details["reason"] = e.Reason
	}
	s.audit.Emit(r)
}
