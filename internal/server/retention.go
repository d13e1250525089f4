package server

import (
	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/retention"
)

// newRetention starts the retention job of [retention] (internal/retention;
// it runs nothing while every period is forever). The upload service's
// cleanup removes the files of the uploads it expires.
func (s *Server) newRetention(cfg config.Config) {
	o := retention.Options{Store: s.store, Policy: retention.PolicyOf(cfg.Retention),
		Every: cfg.Retention.Every.Duration, Batch: cfg.Retention.Batch, Pause: cfg.Retention.Pause.Duration,
		Audit: s.audit, Metrics: s.metrics, Log: s.log.With("component", "retention"), Uploads: s.uploadCleanup()}
	s.retention = retention.New(o)
}

// Retention is the server's retention job.
func (s *Server) Retention() *retention.Job { return s.retention }

// controlDoneHolds records the legal hold changes the CLI made through the
// control socket.
func (s *Server) controlDoneHolds(req control.Request) {
	if req.Hold == nil {
		return
	}
	op := "create"
	if req.Op == "hold.release" {
		op = "release"
	}
	d := control.HoldDetails(*req.Hold, op)
	d["via"] = "control-socket"
	s.audit.Emit(audit.Record{Actor: "cli", Action: audit.ActionHold, Target: "hold:" + d["id"],
		Outcome: audit.OutcomeSuccess, Details: d})
}
