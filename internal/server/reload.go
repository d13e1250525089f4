package server

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"

	"parley/internal/c2s"

	"parley/internal/config"
	"parley/internal/transport"
)

// liveKeys are the settings Reload applies to the running server; every
// other change waits for a restart. log_level is applied by the caller,
// which owns the log handler.
var liveKeys = map[string]bool{
	"cert": true, "key": true, "log_level": true,
	"limits.max_connections_per_ip": true, "limits.auth_failures_before_backoff": true, "limits.auth_backoff_max": true,
	"archive.default": true, "register.enabled": true, "muc.create": true, "muc.admins": true,
	"s2s.allow": true, "s2s.deny": true,
}

// liveRegistrar is in-band registration (XEP-0077) that Reload opens and
// closes; c2s asks Open before it offers or serves it.
type liveRegistrar struct {
	c2s.Registrar
	open atomic.Bool
}

// Open reports whether registration is enabled now.
func (r *liveRegistrar) Open() bool { return r.open.Load() }

// Reload applies cfg, a newly loaded and validated configuration, to the
// running server (SIGHUP): the certificate is read again from its files
// (or the data directory), so a renewal takes effect for new connections
// while established sessions go on; the connection cap per address and
// the authentication back-off apply to new connections and attempts; the
// archiving default, registration, who may create rooms and the
// federation allow and deny lists change at once (liveKeys). It returns the keys that differ from
// the running configuration but take effect only at a restart. On error
// nothing was changed.
func (s *Server) Reload(cfg config.Config) (restart []string, err error) {
	defer func() { s.configReloaded(restart, err) }()
	if s.certs != nil {
		cert, err := transport.LoadOrCreateCert(cfg.Data, s.cfg.Domain, cfg.Cert, cfg.Key)
		if err != nil {
			return nil, fmt.Errorf("server: reload certificate: %w", err)
		}
		s.certs.Set(cert)
	}
	// The limits that apply to new connections and authentications.
	s.c2s.SetLimits(cfg.Limits.MaxConnectionsPerIP, cfg.Limits.AuthFailuresBeforeBackoff, cfg.Limits.AuthBackoffMax.Duration)
	s.mam.SetDefaultMode(cfg.Archive.Default)
	s.muc.SetCreatePolicy(cfg.MUC.Create, mucAdmins(cfg.MUC.Admins))
	s.registration.open.Store(cfg.Register.Enabled)
	if s.s2s != nil { // mode off or on waits for a restart
		s.s2s.SetPolicy(cfg.S2S.Allow, cfg.S2S.Deny)
	}
	for _, k := range changedKeys(reflect.ValueOf(s.cfg), reflect.ValueOf(cfg), "") {
		if !liveKeys[k] {
			restart = append(restart, k)
		}
	}
	return restart, nil
}

// changedKeys lists the dotted TOML keys whose values differ between two
// configurations (tables are walked; lists compared whole).
func changedKeys(a, b reflect.Value, prefix string) []string {
	var out []string
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		av, bv := a.Field(i), b.Field(i)
		// A struct read from one text value (Duration, Period) is one key.
		if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
			out = append(out, changedKeys(av, bv, key+".")...)
			continue
		}
		if !reflect.DeepEqual(av.Interface(), bv.Interface()) {
			out = append(out, key)
		}
	}
	return out
}
