package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"parley/internal/store"
)

// holdsSchema is the migration step for legal holds (store.LegalHolds).
//
// The triggers are the hold: whatever replaces an archived message's
// stanza (RetractArchived) or deletes the row (DeleteArchive, the cascade
// of DeleteUser or of a destroyed room) first copies the original into
// archive_held, in the same transaction, when an active hold covers it.
// So no caller has to know about holds, and a path added later that
// deletes archive rows is covered too. INSERT OR IGNORE keeps the first
// original: a moderation after a retraction, or the deletion of a
// tombstone, does not replace it. archive_held references nothing, so it
// outlives the account or room.
var holdsSchema = `
CREATE TABLE legal_holds (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	name        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	created     INTEGER NOT NULL, -- Unix nanoseconds
	from_stamp  INTEGER,          -- Unix nanoseconds; NULL: open
	to_stamp    INTEGER,
	released    INTEGER,          -- NULL: active
	released_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE legal_hold_targets (
	target TEXT NOT NULL, -- a username or a room's bare JID
	hold   INTEGER NOT NULL REFERENCES legal_holds(id),
	kind   TEXT NOT NULL, -- 'user' or 'room'
	PRIMARY KEY (target, hold)
) WITHOUT ROWID;

CREATE TABLE archive_held (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	owner       TEXT NOT NULL,
	id          TEXT NOT NULL,
	with_jid    TEXT NOT NULL,
	stamp       INTEGER NOT NULL,
	stanza      BLOB NOT NULL,
	body        TEXT NOT NULL,
	held        INTEGER NOT NULL, -- Unix nanoseconds
	cause       TEXT NOT NULL     -- store.HeldRetracted, store.HeldDeleted
);
CREATE UNIQUE INDEX archive_held_owner_id ON archive_held (owner, id);

CREATE TRIGGER archive_hold_retract BEFORE UPDATE OF stanza ON archive
WHEN old.stanza != new.stanza AND ` + store.HeldBy("old.owner", "old.stamp") + ` BEGIN
	INSERT OR IGNORE INTO archive_held (owner, id, with_jid, stamp, stanza, body, held, cause)
	VALUES (old.owner, old.id, old.with_jid, old.stamp, old.stanza, old.body,
		CAST(unixepoch('subsec') * 1000 AS INTEGER) * 1000000, 'retracted');
END;
CREATE TRIGGER archive_hold_delete BEFORE DELETE ON archive
WHEN ` + store.HeldBy("old.owner", "old.stamp") + ` BEGIN
	INSERT OR IGNORE INTO archive_held (owner, id, with_jid, stamp, stanza, body, held, cause)
	VALUES (old.owner, old.id, old.with_jid, old.stamp, old.stanza, old.body,
		CAST(unixepoch('subsec') * 1000 AS INTEGER) * 1000000, 'deleted');
END;
`

// nullNanos is t as a nullable column: NULL for the zero time.
func nullNanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return nanos(t)
}

func fromNullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromUnixNano(n.Int64)
}

// InsertHold inserts h under h.ID, or a new ID when it is 0.
func (d *sqlDB) InsertHold(ctx context.Context, h store.LegalHold) (int64, error) {
	s := (*Store)(d)
	var id any
	if h.ID != 0 {
		id = h.ID
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`INSERT INTO legal_holds (id, name, reason, created_by, created, from_stamp, to_stamp, released, released_by)
			VALUES (?,?,?,?,?,?,?,?,?)`, id, h.Name, h.Reason, h.CreatedBy, unixNano(h.Created), nullNanos(h.From), nullNanos(h.To),
			nullNanos(h.Released), h.ReleasedBy)
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return store.ErrExists
		}
		if err != nil {
			return err
		}
		if h.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for kind, l := range map[string][]string{"user": h.Users, "room": h.Rooms} {
			for _, target := range slices.Compact(slices.Sorted(slices.Values(l))) {
				if _, err := tx.Exec(`INSERT INTO legal_hold_targets (target, hold, kind) VALUES (?,?,?)`, target, h.ID, kind); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return h.ID, err
}

// ImportHeld stores a kept original.
func (s *Store) ImportHeld(ctx context.Context, h store.HeldMessage) error {
	m := h.Message
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO archive_held (owner, id, with_jid, stamp, stanza, body, held, cause)
			VALUES (?,?,?,?,?,?,?,?)`, m.Owner, m.ID, m.With, nanos(m.Stamp), nonNil(m.Stanza), m.Text, nanos(h.Held), h.Cause)
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
			return store.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: import held %q of %q: %w", m.ID, m.Owner, err)
	}
	return nil
}

const holdColumns = `id, name, reason, created_by, created, from_stamp, to_stamp, released, released_by,
	(SELECT json_group_array(target) FROM (SELECT target FROM legal_hold_targets WHERE hold = id AND kind = 'user' ORDER BY target)),
	(SELECT json_group_array(target) FROM (SELECT target FROM legal_hold_targets WHERE hold = id AND kind = 'room' ORDER BY target))`

// HoldColumns: see store.HoldDB.
func (d *sqlDB) HoldColumns() string { return holdColumns }

// ScanHold: see store.HoldDB.
func (d *sqlDB) ScanHold(scan func(...any) error) (store.LegalHold, error) {
	var h store.LegalHold
	var created int64
	var from, to, released sql.NullInt64
	var users, rooms string
	if err := scan(&h.ID, &h.Name, &h.Reason, &h.CreatedBy, &created, &from, &to, &released, &h.ReleasedBy, &users, &rooms); err != nil {
		return h, err
	}
	h.Created, h.From, h.To, h.Released = fromUnixNano(created), fromNullNanos(from), fromNullNanos(to), fromNullNanos(released)
	if err := errors.Join(json.Unmarshal([]byte(users), &h.Users), json.Unmarshal([]byte(rooms), &h.Rooms)); err != nil {
		return h, err
	}
	return h, nil
}

// HeldMessages returns kept originals in the order they were kept.
func (s *Store) HeldMessages(ctx context.Context, q store.HeldQuery) ([]store.HeldMessage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	var start, end int64 = math.MinInt64, math.MaxInt64
	if !q.Start.IsZero() {
		start = nanos(q.Start)
	}
	if !q.End.IsZero() {
		end = nanos(q.End)
	}
	out, err := store.QueryRows(ctx, (*sqlDB)(s), func(scan func(...any) error) (store.HeldMessage, error) {
		var h store.HeldMessage
		var stamp, held int64
		err := scan(&h.Seq, &h.Message.Owner, &h.Message.ID, &h.Message.With, &stamp, &h.Message.Stanza, &h.Message.Text, &held, &h.Cause)
		h.Message.Stamp, h.Held = fromUnixNano(stamp), fromUnixNano(held)
		return h, err
	}, `SELECT seq, owner, id, with_jid, stamp, stanza, body, held, cause FROM archive_held
		WHERE seq > ? AND (? = '' OR owner = ?) AND stamp >= ? AND stamp <= ?
		ORDER BY seq LIMIT ?`, q.After, q.Owner, q.Owner, start, end, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: held messages: %w", err)
	}
	return out, nil
}

// scopeCond is the condition that col is one of sc's owners, and its
// argument (a JSON array).
func scopeCond(col string, sc store.RetentionScope) (string, any) {
	if sc.Owners != nil {
		b, _ := json.Marshal(sc.Owners)
		return col + ` IN (SELECT value FROM json_each(?))`, string(b)
	}
	b, _ := json.Marshal(append([]string{}, sc.Except...))
	return col + ` NOT IN (SELECT value FROM json_each(?))`, string(b)
}

// expire examines, in the writer, up to limit candidate rows after the
// cursor (sel returns each row's key and whether a hold covers it, in key
// order), then runs change (a DELETE or UPDATE taking a JSON array of
// keys) on those no hold covers.
func (s *Store) expire(ctx context.Context, what string, limit int, sel string, selArgs []any, change string, changeArgs ...any) (store.Expired, error) {
	var e store.Expired
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.Query(sel, selArgs...)
		if err != nil {
			return err
		}
		var keys []string
		n := 0
		for rows.Next() {
			var key string
			var held bool
			if err := rows.Scan(&key, &held); err != nil {
				rows.Close()
				return err
			}
			n++
			e.Next = key
			if !held {
				keys = append(keys, key)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		e.Done = n < limit
		if len(keys) == 0 {
			return nil
		}
		list, _ := json.Marshal(keys)
		res, err := tx.Exec(change, append(changeArgs, string(list))...)
		if err != nil {
			return err
		}
		removed, err := res.RowsAffected()
		e.Removed = int(removed)
		return err
	})
	if err != nil {
		return store.Expired{}, fmt.Errorf("sqlite: expire %s: %w", what, err)
	}
	return e, nil
}

// ExpireMessages runs one batch of store.HoldMethods' ExpireArchive or
// ExpireOffline in the writer (expire).
func (d *sqlDB) ExpireMessages(ctx context.Context, table, key, owner string, sc store.RetentionScope, before time.Time, from int64, limit int) (store.Expired, error) {
	cond, arg := scopeCond("m."+owner, sc)
	return (*Store)(d).expire(ctx, table, limit, `SELECT m.`+key+`, `+store.HeldBy("m."+owner, "m.stamp")+` FROM `+table+` m
		WHERE m.`+key+` > ? AND m.stamp < ? AND `+cond+` ORDER BY m.`+key+` LIMIT ?`, []any{from, nanos(before), arg, limit},
		`DELETE FROM `+table+` WHERE `+key+` IN (SELECT CAST(value AS INTEGER) FROM json_each(?))`)
}

// ExpireUploads marks old stored uploads no hold covers as expired at
// now, in ID order.
func (s *Store) ExpireUploads(ctx context.Context, sc store.RetentionScope, before, now time.Time, after string, limit int) (store.Expired, error) {
	cond, arg := scopeCond("u.owner", sc)
	return s.expire(ctx, "uploads", limit, `SELECT u.id, `+store.HeldBy("u.owner", "u.created")+` FROM uploads u
		WHERE u.id > ? AND u.state = ? AND u.created < ? AND u.expires > ? AND `+cond+` ORDER BY u.id LIMIT ?`,
		[]any{after, int(store.UploadStored), nanos(before), nanos(now), arg, limit},
		`UPDATE uploads SET expires = ? WHERE id IN (SELECT value FROM json_each(?))`, nanos(now))
}
