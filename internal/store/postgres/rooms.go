package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"
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
