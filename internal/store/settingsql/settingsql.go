// Package settingsql is the part of the per-account settings
// (store.DigestAddresses, store.StrangerFilters) that both SQL backends
// share. Each setting is one column of a table keyed by username that
// goes with the account (ON DELETE CASCADE); reading one that is not
// stored gives its zero value. A backend supplies the statements (DB);
// Settings turns them into the store's methods.
package settingsql

import (
	"context"
	"fmt"
)

// Column is where one setting is kept.
type Column struct {
	What   string // in errors: "digest address"
	Table  string
	Column string
}

// The settings.
var (
	Digest   = Column{What: "digest address", Table: "digest_addresses", Column: "address"}
	Stranger = Column{What: "stranger filter", Table: "stranger_filters", Column: "refuse"}
)

// DB is what a backend does with a setting, in its own SQL. Errors come
// back bare.
type DB interface {
	// GetSetting scans c of username into dest, leaving it as it is
	// when none is stored.
	GetSetting(ctx context.Context, c Column, username string, dest any) error
	// PutSetting stores value as c of username (store.ErrNotFound for no
	// such account), or removes the row when value is nil.
	PutSetting(ctx context.Context, c Column, username string, value any) error
}

// Settings is the per-account setting methods of store.Store over a
// backend's DB; a backend's Store embeds it.
type Settings struct {
	Backend string // in errors: "sqlite" or "postgres"
	DB      DB
}

// get reads c of username into dest, which keeps its zero value when
// none is stored.
func (s Settings) get(ctx context.Context, c Column, username string, dest any) error {
	if err := s.DB.GetSetting(ctx, c, username, dest); err != nil {
		return fmt.Errorf("%s: %s of %q: %w", s.Backend, c.What, username, err)
	}
	return nil
}

func (s Settings) put(ctx context.Context, c Column, username string, value any) error {
	if err := s.DB.PutSetting(ctx, c, username, value); err != nil {
		return fmt.Errorf("%s: set %s of %q: %w", s.Backend, c.What, username, err)
	}
	return nil
}

// DigestAddress is an account's digest address; "" if none is stored.
func (s Settings) DigestAddress(ctx context.Context, username string) (string, error) {
	var addr string
	err := s.get(ctx, Digest, username, &addr)
	return addr, err
}

// SetDigestAddress records an account's digest address, or forgets it
// for ""; store.ErrNotFound for an address to no such account.
func (s Settings) SetDigestAddress(ctx context.Context, username, address string) error {
	var v any // nil: forget
	if address != "" {
		v = address
	}
	return s.put(ctx, Digest, username, v)
}

// StrangerFilter reports an account's choice; false if none is stored.
func (s Settings) StrangerFilter(ctx context.Context, username string) (bool, error) {
	var on bool
	err := s.get(ctx, Stranger, username, &on)
	return on, err
}

// SetStrangerFilter records an account's choice; store.ErrNotFound for
// no such account.
func (s Settings) SetStrangerFilter(ctx context.Context, username string, on bool) error {
	return s.put(ctx, Stranger, username, on)
}
