package server

import (
	"path/filepath"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/ediscovery"
	"parley/internal/upload"
)

// newEdiscovery builds compliance search and export (internal/ediscovery):
// exports and their jobs' state in <data>/ediscovery, manifests signed
// with the audit log's key, attachments read from the uploads' directory
// (whether the upload service is on or not: files uploaded before it was
// turned off are still evidence).
func (s *Server) newEdiscovery(cfg config.Config) error {
	key, err := audit.LoadOrCreateKey(cfg.Data)
	if err != nil {
		return err
	}
	s.ediscovery = ediscovery.New(ediscovery.Options{
		Store:  s.store,
		Domain: s.router.Domain().String(),
		Blobs:  upload.Dir(filepath.Join(cfg.Data, "uploads")),
		Dir:    filepath.Join(cfg.Data, "ediscovery"),
		Key:    key,
		Audit:  s.audit,
		Log:    s.log.With("component", "ediscovery"),
	})
	return nil
}
