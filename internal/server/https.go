package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/httpapi"
	"parley/internal/upload"
)

// httpsOn reports whether the HTTPS listener is configured.
func httpsOn(cfg config.Config) bool {
	return cfg.Listen.HTTPS != config.Off && cfg.Listen.HTTPS != ""
}

// startHTTPS serves the HTTPS listener ([listen] https): WebSocket,
// uploads and the health check over TLS with the c2s certificate, HTTP/2
// (net/http's, negotiated by ALPN) and HSTS. /metrics stays on the plain
// listener, which operators keep on loopback or behind their proxy.
func (s *Server) startHTTPS() error {
	if !httpsOn(s.cfg) {
		return nil
	}
	tc := s.tls.Clone()
	tc.NextProtos = []string{"h2", "http/1.1"}
	s.httpsSrv = &http.Server{
		Handler: httpapi.HSTS(httpapi.Handler(httpapi.Endpoints{
			WebSocket: s.c2s.WebSocket(s.cfg.AllowPlaintext, s.cfg.TrustedProxyPrefixes()),
			BOSH:      s.c2s.BOSH(s.cfg.AllowPlaintext, s.cfg.TrustedProxyPrefixes()),
			Upload:    s.uploadHandler(),
			AdminAPI:  s.adminAPI(false),
			Hooks:     s.hooks(),
			Health:    s.health,
			Degraded:  s.router.WriteHealth,
		})),
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       s.cfg.Limits.HTTPIdleTimeout.Duration,
		ConnState:         s.httpConnState,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s.serve("https", s.cfg.Listen.HTTPS, func(ln net.Listener) error {
		return s.httpsSrv.ServeTLS(ln, "", "")
	})
}

// stopHTTPS shuts the HTTPS server down (its listener is closed already).
func (s *Server) stopHTTPS(ctx context.Context) error {
	if s.httpsSrv == nil {
		return nil
	}
	if err := s.httpsSrv.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// newUpload builds the HTTP File Upload service (XEP-0363) when [upload]
// enables it and clients can be given an https URL; registerModules
// installs it. Its signing key is <data>/upload.secret (0600, made at the
// first start; every node of a cluster needs the same).
func (s *Server) newUpload(cfg config.Config) error {
	if !cfg.Upload.Enabled || (!httpsOn(cfg) && cfg.Upload.URL == "") {
		s.log.Info("file upload off: it needs [listen] https or [upload] url")
		return nil
	}
	secret, err := upload.LoadSecret(filepath.Join(cfg.Data, "upload.secret"))
	if err != nil {
		return err
	}
	s.upload = upload.New(upload.Options{
		Store:        s.store,
		Accounts:     s.store,
		Blobs:        upload.Dir(filepath.Join(cfg.Data, "uploads")),
		Secret:       secret,
		BaseURL:      s.uploadBaseURL,
		MaxFileSize:  cfg.Upload.MaxFileSize,
		QuotaBytes:   cfg.Upload.QuotaBytes,
		DayBytes:     cfg.Upload.DayBytes,
		Expire:       cfg.Upload.Expire.Duration,
		ContentTypes: cfg.Upload.ContentTypes,
		Log:          s.log.With("component", "upload"),
	})
	return nil
}

// uploadBaseURL is [upload] url, or the HTTPS listener at the domain
// (which the certificate names) and its bound port.
func (s *Server) uploadBaseURL() string {
	if s.cfg.Upload.URL != "" {
		return s.cfg.Upload.URL
	}
	addr := s.Addr("https")
	if addr == nil {
		return ""
	}
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	return "https://" + net.JoinHostPort(s.router.Domain().String(), port)
}

// uploadCleanup is the upload service for the operations that free files
// (retention, a released legal hold), or nil when it is off: never a nil
// *Module in an interface.
func (s *Server) uploadCleanup() control.Uploads {
	if s.upload == nil {
		return nil
	}
	return s.upload
}

// uploadHandler is the upload service's HTTP side, or nil when it is off.
func (s *Server) uploadHandler() http.Handler {
	if s.upload == nil {
		return nil
	}
	return s.upload.Handler()
}
