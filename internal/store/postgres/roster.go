package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// Roster returns all items of a user, hidden ones too, ordered by JID, and
// the roster version (0 for a user whose roster never changed).
//
// Items and version come from one statement, so from one snapshot: under
// READ COMMITTED two statements could straddle a concurrent change and
// pair a version with the wrong items. The version row drives a LEFT JOIN
// so that an empty roster still yields its version.
func (s *Store) Roster(ctx context.Context, username string) ([]store.RosterItem, int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT v.version, i.jid,
			coalesce(i.name, ''), coalesce(i.groups, '{}'), coalesce(i.subscription, ''),
			coalesce(i.ask_out, false), coalesce(i.pending_in, false), coalesce(i.pre_approved, false),
			coalesce(i.pending_stanza, ''), coalesce(i.hidden, false)
		FROM (SELECT coalesce((SELECT version FROM roster_versions WHERE username = $1), 0) AS version) AS v
		LEFT JOIN roster_items AS i ON i.username = $1
		ORDER BY i.jid`, username)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: roster of %q: %w", username, err)
	}
	defer rows.Close()
	var items []store.RosterItem
	var version int64
	for rows.Next() {
		var it store.RosterItem
		var jid *string // NULL on the one row of an empty roster
		if err := rows.Scan(&version, &jid, &it.Name, &it.Groups, &it.Subscription, &it.AskOut,
			&it.PendingIn, &it.PreApproved, &it.PendingInStanza, &it.Hidden); err != nil {
			return nil, 0, fmt.Errorf("postgres: roster of %q: %w", username, err)
		}
		if jid != nil {
			it.JID = *jid
			items = append(items, normalise(it))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("postgres: roster of %q: %w", username, err)
	}
	return items, version, nil
}

// RosterItem returns one item; store.ErrNotFound.
func (s *Store) RosterItem(ctx context.Context, username, contact string) (store.RosterItem, error) {
	var it store.RosterItem
	err := s.pool.QueryRow(ctx, `SELECT `+store.RosterColumns+`
		FROM roster_items WHERE username = $1 AND jid = $2`, username, contact).Scan(
		&it.JID, &it.Name, &it.Groups, &it.Subscription, &it.AskOut,
		&it.PendingIn, &it.PreApproved, &it.PendingInStanza, &it.Hidden)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.RosterItem{}, fmt.Errorf("postgres: roster item %q of %q: %w", contact, username, err)
	}
	return normalise(it), nil
}

// PutRosterItem inserts or replaces the item and returns the new version.
// Groups are stored sorted and without duplicates whatever the caller
// passed. store.ErrNotFound if the user does not exist.
//
// The item and the version change in one statement, hence one
// transaction: a missing user fails the item's foreign key and the
// version is left untouched. Concurrent changes to one roster queue on
// the roster_versions row, so each gets its own version.
func (s *Store) PutRosterItem(ctx context.Context, username string, item store.RosterItem) (int64, error) {
	groups := slices.Compact(slices.Sorted(slices.Values(item.Groups)))
	var version int64
	err := s.queryRow(ctx, `WITH item AS (
			INSERT INTO roster_items (username, `+store.RosterColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (username, jid) DO UPDATE SET
				name = excluded.name, groups = excluded.groups,
				subscription = excluded.subscription, ask_out = excluded.ask_out,
				pending_in = excluded.pending_in, pre_approved = excluded.pre_approved,
				pending_stanza = excluded.pending_stanza, hidden = excluded.hidden
			RETURNING username)
		`+bumpVersion, username, item.JID, item.Name, nonNil(groups), item.Subscription,
		item.AskOut, item.PendingIn, item.PreApproved, nonNil(item.PendingInStanza), item.Hidden).Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("postgres: put roster item %q of %q: %w", item.JID, username, missingUser(err))
	}
	return version, nil
}

// DeleteRosterItem removes the item and returns the new version;
// store.ErrNotFound, and then the version is unchanged.
func (s *Store) DeleteRosterItem(ctx context.Context, username, contact string) (int64, error) {
	var version int64
	err := s.queryRow(ctx, `WITH item AS (
			DELETE FROM roster_items WHERE username = $1 AND jid = $2
			RETURNING username)
		`+bumpVersion, username, contact).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: delete roster item %q of %q: %w", contact, username, err)
	}
	return version, nil
}

// bumpVersion follows a CTE named item that yields the username once if
// the roster changed, and nothing otherwise; it raises that user's roster
// version by one and returns it.
const bumpVersion = `INSERT INTO roster_versions AS v (username, version)
		SELECT username, 1 FROM item
		ON CONFLICT (username) DO UPDATE SET version = v.version + 1
		RETURNING v.version`

// queryRow runs a statement returning one row, unless the store is closed.
func (s *Store) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if s.closed() {
		return errRow{store.ErrClosed}
	}
	return s.pool.QueryRow(ctx, sql, args...)
}

// errRow is a pgx.Row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// normalise returns empty groups and stanzas as nil, as the SQLite store
// does.
func normalise(it store.RosterItem) store.RosterItem {
	if len(it.Groups) == 0 {
		it.Groups = nil
	}
	if len(it.PendingInStanza) == 0 {
		it.PendingInStanza = nil
	}
	return it
}
