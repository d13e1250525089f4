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
