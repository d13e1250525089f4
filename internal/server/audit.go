package server

import (
	"context"
	"fmt"
	"strings"

	"parley/internal/audit"
	"parley/internal/c2s"
	"parley/internal/config"
	"parley/internal/jid"
)

// newAudit opens the audit log (its checkpoint key in the data directory)
// and starts a forwarder for each configured sink (docs/SECURITY.md,
// "Audit log").
func (s *Server) newAudit(ctx context.Context, cfg config.Config) error {
	key, err := audit.LoadOrCreateKey(cfg.Data)
	if err != nil {
		return err
	}
	log := s.log.With("component", "audit")
	s.audit, err = audit.Open(ctx, audit.Options{Store: s.store, Key: key, CheckpointEvery: cfg.Audit.CheckpointEvery,
		CheckpointInterval: cfg.Audit.CheckpointInterval.Duration, Log: log})
	if err != nil {
		return err
	}
	for _, c := range cfg.Audit.Sinks {
		sink, err := audit.NewSink(c, Version)
		if err != nil {
			s.closeAudit()
			return err
		}
		name := c.Name
		s.forwarders = append(s.forwarders, audit.Forward(audit.ForwarderOptions{Name: name, Sink: sink, Log: s.audit,
			Store: s.store, Backlog: func(n int64) { s.metrics.AuditBacklog(name, n) }, Logger: log.With("sink", name)}))
	}
	return nil
}

// closeAudit stops the forwarders (their cursors are durable: they go on
// from there at the next start) and writes the log's last checkpoint.
func (s *Server) closeAudit() {
	for _, f := range s.forwarders {
		f.Close()
	}
	s.forwarders = nil
	if s.audit != nil {
		s.audit.Close()
	}
}

// Audit is the server's audit log.
func (s *Server) Audit() *audit.Log { return s.audit }

// bare is username's bare JID on the server's domain, for records.
func (s *Server) bare(username string) string {
	if username == "" {
		return ""
	}
	return username + "@" + s.cfg.Domain
}

// onAuth records a SASL outcome (c2s.Config.OnAuth): login or
// login-failed with the mechanism and the client's address.
func (s *Server) onAuth(e c2s.AuthEvent) {
	r := audit.Record{Actor: s.bare(e.Username), Target: s.bare(e.Username), IP: e.IP,
		Action: audit.ActionLogin, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{"mechanism": e.Mechanism, "transport": e.Transport}}
	if !e.Success() {
		r.Action, r.Outcome = audit.ActionLoginFailed, audit.OutcomeFailure
		r.Details["condition"] = e.Condition
	}
	s.audit.Emit(r)
}

// accountEvent records an account change made in-band (XEP-0077) by the
// account itself, or by an admin (XEP-0133) when actor says so.
func (s *Server) accountEvent(action, actor, username, ip, via string) {
	s.audit.Emit(audit.Record{Actor: actor, Action: action, Target: s.bare(username), IP: ip,
		Outcome: audit.OutcomeSuccess, Details: map[string]string{"via": via}})
}

// roomDestroyed records a room destroyed by its owner (by) or the server.
func (s *Server) roomDestroyed(room, by jid.JID, reason string) {
	actor := "server"
	if !by.IsZero() {
		actor = by.Bare().String()
	}
	r := audit.Record{Actor: actor, Action: audit.ActionRoomDestroyed, Target: room.String(), Outcome: audit.OutcomeSuccess}
	if reason != "" {
		r.Details = map[string]string{"reason": reason}
	}
	s.audit.Emit(r)
}

// configReloaded records a reload (SIGHUP): what waits for a restart, or
// why it failed.
func (s *Server) configReloaded(restart []string, err error) {
	r := audit.Record{Actor: "sighup", Action: audit.ActionConfigReloaded, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{}}
	if len(restart) > 0 {
		r.Details["restart_needed"] = strings.Join(restart, ",")
	}
	if err != nil {
		r.Outcome, r.Details["error"] = audit.OutcomeFailure, fmt.Sprint(err)
	}
	s.audit.Emit(r)
}
