package postgres

import (
	"context"
	"errors"
	"fmt"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// roomsSchema is the migration step that adds persistent MUC rooms
// (XEP-0045). Affiliations reference their room with ON DELETE CASCADE,
// so DeleteRoom is one statement.
const roomsSchema = `
CREATE TABLE muc_rooms (
	jid          text COLLATE "C" PRIMARY KEY,
	config       bytea NOT NULL,
	secret       bytea NOT NULL,
	subject      text NOT NULL,
	subject_from text NOT NULL,
	created      timestamptz NOT NULL
);

CREATE TABLE muc_affiliations (
	room        text COLLATE "C" NOT NULL REFERENCES muc_rooms (jid) ON DELETE CASCADE,
	jid         text COLLATE "C" NOT NULL,
	affiliation text NOT NULL,
	nick        text NOT NULL,
	reason      text NOT NULL,
	PRIMARY KEY (room, jid)
);
`

// PutRoom creates or replaces a room record, keeping its creation time.
func (s *Store) PutRoom(ctx context.Context, r store.Room) error {
	_, err := s.exec(ctx, `INSERT INTO muc_rooms (jid, config, secret, subject, subject_from, created)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (jid) DO UPDATE SET config = excluded.config, secret = excluded.secret,
			subject = excluded.subject, subject_from = excluded.subject_from`,
		r.JID, nonNil(r.Config), nonNil(r.Secret), r.Subject, r.SubjectFrom, stamp(r.Created))
	if err != nil {
		return fmt.Errorf("postgres: put room %q: %w", r.JID, err)
	}
	return nil
}

const roomColumns = `jid, config, secret, subject, subject_from, created`

func scanRoom(row pgx.Row) (store.Room, error) {
	var r store.Room
	err := row.Scan(&r.JID, &r.Config, &r.Secret, &r.Subject, &r.SubjectFrom, &r.Created)
	r.Created = r.Created.UTC()
	return r, err
}

// GetRoom returns store.ErrNotFound for an unknown room.
func (s *Store) GetRoom(ctx context.Context, jid string) (store.Room, error) {
	r, err := scanRoom(s.pool.QueryRow(ctx, `SELECT `+roomColumns+` FROM muc_rooms WHERE jid = $1`, jid))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Room{}, fmt.Errorf("postgres: room %q: %w", jid, err)
	}
	return r, nil
}

// ListRooms returns every room in ascending JID byte order.
func (s *Store) ListRooms(ctx context.Context) ([]store.Room, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+roomColumns+` FROM muc_rooms ORDER BY jid`)
	var out []store.Room
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Room, error) { return scanRoom(row) })
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: list rooms: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// DeleteRoom removes a room, its affiliations and its archive.
func (s *Store) DeleteRoom(ctx context.Context, jid string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM muc_rooms WHERE jid = $1`, jid))
	if err != nil {
		return fmt.Errorf("postgres: delete room %q: %w", jid, err)
	}
	return nil
}

// RoomAffiliations returns a room's affiliations in ascending JID order.
func (s *Store) RoomAffiliations(ctx context.Context, room string) ([]store.RoomAffiliation, error) {
	rows, err := s.pool.Query(ctx, `SELECT jid, affiliation, nick, reason FROM muc_affiliations
		WHERE room = $1 ORDER BY jid`, room)
	var out []store.RoomAffiliation
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.RoomAffiliation, error) {
			var a store.RoomAffiliation
			err := row.Scan(&a.JID, &a.Affiliation, &a.Nick, &a.Reason)
			return a, err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: affiliations of %q: %w", room, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// SetRoomAffiliation sets or (for "none") removes one affiliation;
// store.ErrNotFound if the room is not stored.
func (s *Store) SetRoomAffiliation(ctx context.Context, room string, a store.RoomAffiliation) error {
	var err error
	if a.Affiliation == "" || a.Affiliation == "none" {
		// One statement: the room must exist, the row may not.
		var found bool
		err = s.queryRow(ctx, `WITH d AS (DELETE FROM muc_affiliations WHERE room = $1 AND jid = $2)
			SELECT EXISTS (SELECT 1 FROM muc_rooms WHERE jid = $1)`, room, a.JID).Scan(&found)
		if err == nil && !found {
			err = store.ErrNotFound
		}
	} else {
		_, err = s.exec(ctx, `INSERT INTO muc_affiliations (room, jid, affiliation, nick, reason)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (room, jid) DO UPDATE SET affiliation = excluded.affiliation,
				nick = excluded.nick, reason = excluded.reason`,
			room, a.JID, a.Affiliation, a.Nick, a.Reason)
		if isCode(err, foreignKeyViolation) {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: set affiliation of %q in %q: %w", a.JID, room, err)
	}
	return nil
}

// roomVCards is the migration step that gives rooms a vCard (their
// avatar, XEP-0486): a column of the room's row, so DeleteRoom takes it
// along; empty means none.
const roomVCards = `ALTER TABLE muc_rooms ADD COLUMN vcard bytea NOT NULL DEFAULT '';`

// RoomVCard returns store.ErrNotFound for an unknown room or one without
// a vCard.
func (s *Store) RoomVCard(ctx context.Context, room string) ([]byte, error) {
	var v []byte
	err := s.queryRow(ctx, `SELECT vcard FROM muc_rooms WHERE jid = $1`, room).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && len(v) == 0) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: vcard of room %q: %w", room, err)
	}
	return v, nil
}

// SetRoomVCard stores, replaces or (empty) removes a room's vCard.
func (s *Store) SetRoomVCard(ctx context.Context, room string, vcard []byte) error {
	err := mustAffect(s.exec(ctx, `UPDATE muc_rooms SET vcard = $2 WHERE jid = $1`, room, nonNil(vcard)))
	if err != nil {
		return fmt.Errorf("postgres: set vcard of room %q: %w", room, err)
	}
	return nil
}
