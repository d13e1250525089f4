package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"parley/internal/store"
)

// Roster returns all items of a user, hidden ones too, ordered by JID, and
// the roster version (0 for a user whose roster never changed).
func (s *Store) Roster(ctx context.Context, username string) ([]store.RosterItem, int64, error) {
	items, version, err := s.roster(ctx, username)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: roster of %q: %w", username, err)
	}
	return items, version, nil
}

// roster reads items and version in one read transaction so the version
// belongs to exactly these items even while the writer commits.
func (s *Store) roster(ctx context.Context, username string) ([]store.RosterItem, int64, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose
	var version int64
	err = tx.QueryRowContext(ctx, `SELECT version FROM roster_versions WHERE username = ?`, username).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+store.RosterColumns+`
		FROM roster_items WHERE username = ? ORDER BY jid`, username)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var items []store.RosterItem
	for rows.Next() {
		it, err := scanRosterItem(rows)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, it)
	}
	return items, version, rows.Err()
}

// RosterItem returns one item; store.ErrNotFound.
func (s *Store) RosterItem(ctx context.Context, username, contact string) (store.RosterItem, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+store.RosterColumns+`
		FROM roster_items WHERE username = ? AND jid = ?`, username, contact)
	it, err := scanRosterItem(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.RosterItem{}, fmt.Errorf("sqlite: roster item %q of %q: %w", contact, username, err)
	}
	return it, nil
}

// PutRosterItem inserts or replaces the item and returns the new version.
// Groups are stored sorted and without duplicates whatever the caller
// passed. store.ErrNotFound if the user does not exist.
func (s *Store) PutRosterItem(ctx context.Context, username string, item store.RosterItem) (int64, error) {
	groups := slices.Compact(slices.Sorted(slices.Values(item.Groups)))
	if groups == nil {
		groups = []string{} // JSON [] rather than null
	}
	groupsJSON, err := json.Marshal(groups)
	if err != nil {
		return 0, fmt.Errorf("sqlite: put roster item %q of %q: %w", item.JID, username, err)
	}
	var version int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT OR REPLACE INTO roster_items (username, `+store.RosterColumns+`)
			VALUES (?,?,?,?,?,?,?,?,?,?)`,
			username, item.JID, item.Name, string(groupsJSON), item.Subscription,
			item.AskOut, item.PendingIn, item.PreApproved, nonNil(item.PendingInStanza), item.Hidden)
		if err != nil {
			return missingUser(err)
		}
		version, err = bumpRosterVersion(tx, username)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: put roster item %q of %q: %w", item.JID, username, err)
	}
	return version, nil
}

// DeleteRosterItem removes the item and returns the new version;
// store.ErrNotFound, and then the version is unchanged.
func (s *Store) DeleteRosterItem(ctx context.Context, username, contact string) (int64, error) {
	var version int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := mustAffect(tx.Exec(`DELETE FROM roster_items WHERE username = ? AND jid = ?`, username, contact))
		if err != nil {
			return err
		}
		version, err = bumpRosterVersion(tx, username)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete roster item %q of %q: %w", contact, username, err)
	}
	return version, nil
}

func bumpRosterVersion(tx *sql.Tx, username string) (int64, error) {
	var v int64
	err := tx.QueryRow(`INSERT INTO roster_versions (username, version) VALUES (?, 1)
		ON CONFLICT (username) DO UPDATE SET version = version + 1
		RETURNING version`, username).Scan(&v)
	return v, err
}

func scanRosterItem(row interface{ Scan(...any) error }) (store.RosterItem, error) {
	var it store.RosterItem
	var groups string
	err := row.Scan(&it.JID, &it.Name, &groups, &it.Subscription, &it.AskOut,
		&it.PendingIn, &it.PreApproved, &it.PendingInStanza, &it.Hidden)
	if err != nil {
		return store.RosterItem{}, err
	}
	if err := json.Unmarshal([]byte(groups), &it.Groups); err != nil {
		return store.RosterItem{}, fmt.Errorf("groups of %q: %w", it.JID, err)
	}
	if len(it.Groups) == 0 {
		it.Groups = nil
	}
	if len(it.PendingInStanza) == 0 {
		it.PendingInStanza = nil
	}
	return it, nil
}
