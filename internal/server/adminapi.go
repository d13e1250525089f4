package server

import (
	"context"
	"crypto/x509"
	"net/http"
	"parley/internal/c2s"
	"parley/internal/store"
	"path/filepath"
	"runtime"
	"time"

	"parley/internal/adminapi"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/oidc"
	"parley/internal/supervision"
	"parley/internal/upload"
)

// adminAPI is the admin REST API (internal/adminapi) over the operations
// the control socket serves. On the plain HTTP listener it answers only
// connections from loopback (loopbackOnly): bearer tokens must not cross
// a network in clear.
func (s *Server) adminAPI(loopbackOnly bool) http.Handler {
	started := time.Now()
	return adminapi.New(adminapi.Options{
		Ops: &control.Ops{Domain: s.router.Domain(), Users: s.store, Sessions: s.router, Rooms: s.muc, RoomStore: s.store, Tokens: s.store,
			Ediscovery: s.ediscovery, Holds: s.store, Uploads: s.uploadCleanup()},
		Forget:   s.forgetAccount,
		Tokens:   s.store,
		Audit:    s.audit,
		AuditLog: s.store,
		Reports:  s.store,
		Devices:  devices{s.store, s.c2s},
		Webhooks: s.webhookAPI(),
		SSO: adminapi.SSO{OIDC: s.sso, Fast: s.c2s, CreateAccounts: s.cfg.Auth.OIDC.CreateAccounts,
			TokenLifetime: s.cfg.Auth.OIDC.WithDefaults().TokenLifetime.Duration},
		Data:          s.store,
		CheckPassword: s.checkPassword(),
		Blobs:         upload.Dir(filepath.Join(s.cfg.Data, "uploads")),
		Supervision:   supervision.New(supervision.Options{Store: s.store, Audit: s.audit, Domain: s.router.Domain()}),
		DLP:           s.dlp,
		Retention:     s.cfg.Retention,
		Info:          func(ctx context.Context) (adminapi.ServerInfo, error) { return s.serverInfo(ctx, started) },
		LoopbackOnly:  loopbackOnly,
		Log:           s.log.With("component", "adminapi"),
	})
}

// newSSO is the [auth.oidc] provider's client, nil when none is
// configured.
func newSSO(cfg config.OIDC) (*oidc.Client, error) {
	if !cfg.On() {
		return nil, nil
	}
	return oidc.New(oidc.Options{Config: cfg})
}

// serverInfo is what GET /api/v1/server tells.
func (s *Server) serverInfo(ctx context.Context, started time.Time) (adminapi.ServerInfo, error) {
	info := adminapi.ServerInfo{Version: Version, Go: runtime.Version(), Started: started.UTC(),
		Uptime: int64(time.Since(started).Seconds()), Sessions: s.router.SessionCount()}
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return info, err
	}
	info.Users = len(users)
	rooms, err := s.store.ListRooms(ctx)
	if err != nil {
		return info, err
	}
	info.Rooms = len(rooms)
	if s.certs != nil {
		if c, err := s.certs.TLSConfig().GetCertificate(nil); err == nil && c != nil && len(c.Certificate) > 0 {
			if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil {
				info.CertificateExpires = leaf.NotAfter.UTC()
				info.CertificateDays = int(time.Until(leaf.NotAfter).Hours() / 24)
			}
		}
	}
	return info, nil
}

// devices are the admin API's FAST devices: listed from the store,
// revoked by c2s (tokens deleted, the device's sessions ended).
type devices struct {
	store.FastTokens
	*c2s.Server
}
