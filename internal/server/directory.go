package server

import (
	"context"
	"errors"

	"parley/internal/config"
	"parley/internal/directory"
	"parley/internal/im/roster"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// newDirectory builds the [auth.ldap] account source (internal/directory),
// or nothing when none is configured. It does not contact the directory:
// a directory down at start is one whose logins fail until it answers.
func (s *Server) newDirectory(cfg config.Config) error {
	if !cfg.Auth.LDAP.On() {
		return nil
	}
	d, err := directory.New(directory.Options{Config: cfg.Auth.LDAP, Domain: s.router.Domain(), Users: s.store,
		Router: s.router, Audit: s.audit, Log: s.log.With("component", "directory"), OnSync: s.metrics.DirectorySync})
	if err != nil {
		return err
	}
	s.directory = d
	return nil
}

// Directory is the LDAP account source, nil without [auth.ldap] (for
// tests: Sync without waiting for the interval).
func (s *Server) Directory() *directory.Directory { return s.directory }

// sharedGroups is the roster's shared-group source: the directory's
// groups, or none.
func (s *Server) sharedGroups() roster.Shared {
	if s.directory == nil {
		return nil
	}
	return s.directory
}

// directoryVCard is the vCard module's fallback: a directory user's
// attributes, or none.
func (s *Server) directoryVCard() func(ctx context.Context, username string) *xmlstream.Element {
	if s.directory == nil {
		return nil
	}
	return s.directory.VCard
}

// checkPassword is c2s's PLAIN check of directory accounts, or none.
func (s *Server) checkPassword() func(ctx context.Context, username, password string) error {
	if s.directory == nil {
		return nil
	}
	return s.directory.CheckPassword
}

// tokenRefused is c2s's check of FAST token logins of directory
// accounts (they never reach checkPassword), or none.
func (s *Server) tokenRefused() func(username string) bool {
	if s.directory == nil {
		return nil
	}
	return s.directory.Refuses
}

// localPasswords is the account store for in-band password changes
// (XEP-0077 §3.3): a directory account (one without keys here) changes
// its password in the directory, never here, where a password would make
// it a local account that outlives its removal from the directory.
type localPasswords struct{ store.Users }

func (l localPasswords) SetUserKeys(ctx context.Context, username string, sha1, sha256 store.ScramKeys) error {
	u, err := l.GetUser(ctx, username)
	if err == nil && len(u.SHA256.StoredKey) == 0 && len(u.SHA1.StoredKey) == 0 {
		return stanza.ErrNotAllowed.WithText("the password of this account is kept in the directory")
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return l.Users.SetUserKeys(ctx, username, sha1, sha256)
}

// registerUsers is the store the in-band registration module changes.
func (s *Server) registerUsers() store.Users {
	if s.directory == nil {
		return s.store
	}
	return localPasswords{s.store}
}
