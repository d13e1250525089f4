package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

// roomsSchema is the migration step that adds persistent MUC rooms
// (XEP-0045). Affiliations reference their room with ON DELETE CASCADE,
// so DeleteRoom is one statement.
const roomsSchema = `
CREATE TABLE muc_rooms (
	jid          TEXT PRIMARY KEY,
	config       BLOB NOT NULL,
	secret       BLOB NOT NULL,
	subject      TEXT NOT NULL,
	subject_from TEXT NOT NULL,
	created      INTEGER NOT NULL -- Unix nanoseconds
) WITHOUT ROWID;

CREATE TABLE muc_affiliations (
	room        TEXT NOT NULL REFERENCES muc_rooms(jid) ON DELETE CASCADE,
	jid         TEXT NOT NULL,
	affiliation TEXT NOT NULL,
	nick        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	PRIMARY KEY (room, jid)
) WITHOUT ROWID;
`

// PutRoom creates or replaces a room record, keeping its creation time.
func (s *Store) PutRoom(ctx context.Context, r store.Room) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO muc_rooms (jid, config, secret, subject, subject_from, created)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (jid) DO UPDATE SET config = excluded.config, secret = excluded.secret,
				subject = excluded.subject, subject_from = excluded.subject_from`,
			r.JID, nonNil(r.Config), nonNil(r.Secret), r.Subject, r.SubjectFrom, unixNano(r.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put room %q: %w", r.JID, err)
	}
	return nil
}

const roomColumns = `jid, config, secret, subject, subject_from, created`

func scanRoom(scan func(...any) error) (store.Room, error) {
	var r store.Room
	var created int64
	err := scan(&r.JID, &r.Config, &r.Secret, &r.Subject, &r.SubjectFrom, &created)
	r.Created = fromUnixNano(created)
	return r, err
}

// GetRoom returns store.ErrNotFound for an unknown room.
func (s *Store) GetRoom(ctx context.Context, jid string) (store.Room, error) {
	r, err := scanRoom(s.r.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM muc_rooms WHERE jid = ?`, jid).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Room{}, fmt.Errorf("sqlite: room %q: %w", jid, err)
	}
	return r, nil
}

// ListRooms returns every room in ascending JID byte order.
func (s *Store) ListRooms(ctx context.Context) ([]store.Room, error) {
	out, err := queryAll(ctx, s, scanRoom, `SELECT `+roomColumns+` FROM muc_rooms ORDER BY jid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list rooms: %w", err)
	}
	return out, nil
}

// DeleteRoom removes a room and its affiliations.
func (s *Store) DeleteRoom(ctx context.Context, jid string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM muc_rooms WHERE jid = ?`, jid))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete room %q: %w", jid, err)
	}
	return nil
}

// RoomAffiliations returns a room's affiliations in ascending JID order.
func (s *Store) RoomAffiliations(ctx context.Context, room string) ([]store.RoomAffiliation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT jid, affiliation, nick, reason FROM muc_affiliations
		WHERE room = ? ORDER BY jid`, room)
	if err != nil {
		return nil, fmt.Errorf("sqlite: affiliations of %q: %w", room, err)
	}
	defer rows.Close()
	var out []store.RoomAffiliation
	for rows.Next() {
		var a store.RoomAffiliation
		if err := rows.Scan(&a.JID, &a.Affiliation, &a.Nick, &a.Reason); err != nil {
			return nil, fmt.Errorf("sqlite: affiliations of %q: %w", room, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: affiliations of %q: %w", room, err)
	}
	return out, nil
}

// SetRoomAffiliation sets or (for "none") removes one affiliation.
func (s *Store) SetRoomAffiliation(ctx context.Context, room string, a store.RoomAffiliation) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if a.Affiliation == "" || a.Affiliation == "none" {
			var one int
			err := tx.QueryRow(`SELECT 1 FROM muc_rooms WHERE jid = ?`, room).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			_, err = tx.Exec(`DELETE FROM muc_affiliations WHERE room = ? AND jid = ?`, room, a.JID)
			return err
		}
		_, err := tx.Exec(`INSERT INTO muc_affiliations (room, jid, affiliation, nick, reason)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (room, jid) DO UPDATE SET affiliation = excluded.affiliation,
				nick = excluded.nick, reason = excluded.reason`,
			room, a.JID, a.Affiliation, a.Nick, a.Reason)
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set affiliation of %q in %q: %w", a.JID, room, err)
	}
	return nil
}

// roomVCards is the migration step that gives rooms a vCard (their
// avatar, XEP-0486): a column of the room's row, so DeleteRoom takes it
// along; empty means none.
const roomVCards = `ALTER TABLE muc_rooms ADD COLUMN vcard BLOB NOT NULL DEFAULT x'';`

// RoomVCard returns store.ErrNotFound for an unknown room or one without
// a vCard.
func (s *Store) RoomVCard(ctx context.Context, room string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT vcard FROM muc_rooms WHERE jid = ?`, room).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && len(v) == 0) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: vcard of room %q: %w", room, err)
	}
	return v, nil
}

// SetRoomVCard stores, replaces or (empty) removes a room's vCard.
func (s *Store) SetRoomVCard(ctx context.Context, room string, vcard []byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`UPDATE muc_rooms SET vcard = ? WHERE jid = ?`, nonNil(vcard), room))
	})
	if err != nil {
		return fmt.Errorf("sqlite: set vcard of room %q: %w", room, err)
	}
	return nil
}
