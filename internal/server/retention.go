package server

import (
	"parley/internal/config"
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
