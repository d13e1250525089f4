// The part of the per-account settings (DigestAddresses,
// StrangerFilters) that both SQL backends share. Each setting is one column of a table keyed by username that
// goes with the account (ON DELETE CASCADE); reading one that is not
// stored gives its zero value. A backend supplies the statements (SettingDB);
// SettingMethods turns them into the store's methods.

package store

import (
	"context"
	"fmt"
)

// SettingColumn is where one setting is kept.
type SettingColumn struct {
	What   string // in errors: "digest address"
	Table  string
	Column string
}

// The settings.
var (
	DigestSetting   = SettingColumn{What: "digest address", Table: "digest_addresses", Column: "address"}
	StrangerSetting = SettingColumn{What: "stranger filter", Table: "stranger_filters", Column: "refuse"}
)

// SettingDB is what a backend does with a setting, in its own SQL. Errors come
// back bare.
type SettingDB interface {
	// GetSetting scans c of username into dest, leaving it as it is
	// when none is stored.
	GetSetting(ctx context.Context, c SettingColumn, username string, dest any) error
	// PutSetting stores value as c of username (store.ErrNotFound for no
	// such account), or removes the row when value is nil.
	PutSetting(ctx context.Context, c SettingColumn, username string, value any) error
}

// SettingMethods is the per-account setting methods of store.Store over a
// backend's SettingDB; a backend's Store embeds it.
type SettingMethods struct {
	Backend string // in errors: "sqlite" or "postgres"
	DB      SettingDB
}

// get reads c of username into dest, which keeps its zero value when
// none is stored.
func (s SettingMethods) get(ctx context.Context, c SettingColumn, username string, dest any) error {
	if err := s.DB.GetSetting(ctx, c, username, dest); err != nil {
		return fmt.Errorf("%s: %s of %q: %w", s.Backend, c.What, username, err)
	}
	return nil
}

func (s SettingMethods) put(ctx context.Context, c SettingColumn, username string, value any) error {
	if err := s.DB.PutSetting(ctx, c, username, value); err != nil {
		return fmt.Errorf("%s: set %s of %q: %w", s.Backend, c.What, username, err)
	}
	return nil
}

// DigestAddress is an account's digest address; "" if none is stored.
func (s SettingMethods) DigestAddress(ctx context.Context, username string) (string, error) {
	var addr string
	err := s.get(ctx, DigestSetting, username, &addr)
	return addr, err
}

// SetDigestAddress records an account's digest address, or forgets it
// for ""; store.ErrNotFound for an address to no such account.
func (s SettingMethods) SetDigestAddress(ctx context.Context, username, address string) error {
	var v any // nil: forget
	if address != "" {
		v = address
	}
	return s.put(ctx, DigestSetting, username, v)
}

// StrangerFilter reports an account's choice; false if none is stored.
func (s SettingMethods) StrangerFilter(ctx context.Context, username string) (bool, error) {
	var on bool
	err := s.get(ctx, StrangerSetting, username, &on)
	return on, err
}

// SetStrangerFilter records an account's choice; store.ErrNotFound for
// no such account.
func (s SettingMethods) SetStrangerFilter(ctx context.Context, username string, on bool) error {
	return s.put(ctx, StrangerSetting, username, on)
}
