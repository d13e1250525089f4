package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

// holdsSchema is the migration step for legal holds (store.LegalHolds).
//
// The trigger is the hold: whatever replaces an archived message's stanza
// (RetractArchived) or deletes the row (DeleteArchive, the cascade of
// DeleteUser or of a destroyed room) first copies the original into
// archive_held, in the same transaction, when an active hold covers it,
// so no caller has to know about holds. ON CONFLICT DO NOTHING keeps the
// first original (a moderation after a retraction, the deletion of a
// tombstone). archive_held references nothing, so it outlives the account
// or room. Under READ COMMITTED a hold committed while a deletion is
// already running is not seen by that deletion's rows.
var holdsSchema = `
CREATE TABLE legal_holds (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        text NOT NULL,
	reason      text NOT NULL,
	created_by  text NOT NULL,
	created     timestamptz NOT NULL,
	from_stamp  timestamptz, -- NULL: open
	to_stamp    timestamptz,
	released    timestamptz, -- NULL: active
	released_by text NOT NULL DEFAULT ''
);
CREATE TABLE legal_hold_targets (
	target text COLLATE "C" NOT NULL, -- a username or a room's bare JID
	hold   bigint NOT NULL REFERENCES legal_holds (id),
	kind   text NOT NULL, -- 'user' or 'room'
	PRIMARY KEY (target, hold)
);

CREATE TABLE archive_held (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner       text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	with_jid    text COLLATE "C" NOT NULL,
	stamp       timestamptz NOT NULL,
	stanza      bytea NOT NULL,
	body        text NOT NULL,
	held        timestamptz NOT NULL,
	cause       text NOT NULL -- store.HeldRetracted, store.HeldDeleted
);
CREATE UNIQUE INDEX archive_held_owner_id ON archive_held (owner, id);

CREATE FUNCTION archive_hold_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (TG_OP = 'DELETE' OR OLD.stanza IS DISTINCT FROM NEW.stanza) AND ` + store.HeldBy("OLD.owner", "OLD.stamp") + ` THEN
		INSERT INTO archive_held (owner, id, with_jid, stamp, stanza, body, held, cause)
		VALUES (OLD.owner, OLD.id, OLD.with_jid, OLD.stamp, OLD.stanza, OLD.body, clock_timestamp(),
			CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'retracted' END)
		ON CONFLICT DO NOTHING;
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER archive_hold_retract BEFORE UPDATE OF stanza ON archive
	FOR EACH ROW EXECUTE FUNCTION archive_hold_keep();
CREATE TRIGGER archive_hold_delete BEFORE DELETE ON archive
	FOR EACH ROW EXECUTE FUNCTION archive_hold_keep();
`

// nullStamp is t as a nullable column: NULL for the zero time.
func nullStamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(time.Microsecond)
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// InsertHold inserts h under h.ID, or a new ID when it is 0.
func (d *sqlDB) InsertHold(ctx context.Context, h store.LegalHold) (int64, error) {
	s := (*Store)(d)
	if s.closed() {
		return 0, store.ErrClosed
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		args := []any{h.Name, h.Reason, h.CreatedBy, stamp(h.Created), nullStamp(h.From), nullStamp(h.To), nullStamp(h.Released), h.ReleasedBy}
		q := `INSERT INTO legal_holds (name, reason, created_by, created, from_stamp, to_stamp, released, released_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`
		if h.ID != 0 {
			q = `INSERT INTO legal_holds (id, name, reason, created_by, created, from_stamp, to_stamp, released, released_by)
				OVERRIDING SYSTEM VALUE VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`
			args = append(args, h.ID)
		}
		err := tx.QueryRow(ctx, q, args...).Scan(&id)
		if isCode(err, uniqueViolation) {
			return store.ErrExists
		}
		if err != nil {
			return err
		}
		if h.ID != 0 {
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('legal_holds', 'id'),
				(SELECT max(id) FROM legal_holds))`); err != nil {
				return err
			}
		}
		users := slices.Compact(slices.Sorted(slices.Values(h.Users)))
		rooms := slices.Compact(slices.Sorted(slices.Values(h.Rooms)))
		_, err = tx.Exec(ctx, `INSERT INTO legal_hold_targets (target, hold, kind)
			SELECT u, $1::bigint, 'user' FROM unnest($2::text[]) u
			UNION ALL SELECT r, $1::bigint, 'room' FROM unnest($3::text[]) r`, id, nonNil(users), nonNil(rooms))
		return err
	})
	return id, err
}

// ImportHeld stores a kept original.
func (s *Store) ImportHeld(ctx context.Context, h store.HeldMessage) error {
	m := h.Message
	_, err := s.exec(ctx, `INSERT INTO archive_held (owner, id, with_jid, stamp, stanza, body, held, cause)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, m.Owner, m.ID, m.With, stamp(m.Stamp), nonNil(m.Stanza), m.Text, stamp(h.Held), h.Cause)
	if isCode(err, uniqueViolation) {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: import held %q of %q: %w", m.ID, m.Owner, err)
	}
	return nil
}

const holdColumns = `id, name, reason, created_by, created, from_stamp, to_stamp, released, released_by,
	ARRAY(SELECT target FROM legal_hold_targets WHERE hold = id AND kind = 'user' ORDER BY target),
	ARRAY(SELECT target FROM legal_hold_targets WHERE hold = id AND kind = 'room' ORDER BY target)`

// HoldColumns: see store.HoldDB.
func (d *sqlDB) HoldColumns() string { return holdColumns }

// ScanHold: see store.HoldDB.
func (d *sqlDB) ScanHold(scan func(...any) error) (store.LegalHold, error) {
	var h store.LegalHold
	var from, to, released *time.Time
	if err := scan(&h.ID, &h.Name, &h.Reason, &h.CreatedBy, &h.Created, &from, &to, &released, &h.ReleasedBy,
		&h.Users, &h.Rooms); err != nil {
		return h, err
	}
	h.Created, h.From, h.To, h.Released = h.Created.UTC(), fromNull(from), fromNull(to), fromNull(released)
	return h, nil
}

// HeldMessages returns kept originals in the order they were kept.
func (s *Store) HeldMessages(ctx context.Context, q store.HeldQuery) ([]store.HeldMessage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	out, err := store.QueryRows(ctx, (*sqlDB)(s), func(scan func(...any) error) (store.HeldMessage, error) {
		var h store.HeldMessage
		err := scan(&h.Seq, &h.Message.Owner, &h.Message.ID, &h.Message.With, &h.Message.Stamp,
			&h.Message.Stanza, &h.Message.Text, &h.Held, &h.Cause)
		h.Message.Stamp, h.Held = h.Message.Stamp.UTC(), h.Held.UTC()
		return h, err
	}, `SELECT seq, owner, id, with_jid, stamp, stanza, body, held, cause FROM archive_held
		WHERE seq > $1 AND ($2 = '' OR owner = $2) AND ($3::timestamptz IS NULL OR stamp >= $3)
		AND ($4::timestamptz IS NULL OR stamp <= $4)
		ORDER BY seq LIMIT $5`, q.After, q.Owner, nullStamp(q.Start), nullStamp(q.End), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: held messages: %w", err)
	}
	return out, nil
}

// scopeCond is the condition that col is one of sc's owners, taking its
// list as parameter $n.
func scopeCond(col string, n int, sc store.RetentionScope) (string, []string) {
	if sc.Owners != nil {
		return fmt.Sprintf("%s = ANY($%d::text[])", col, n), sc.Owners
	}
	return fmt.Sprintf("NOT (%s = ANY($%d::text[]))", col, n), nonNil(sc.Except)
}

// expire runs one batch in one statement: c selects up to limit
// candidates after the cursor ($1) with their key (k, as text) and
// whether a hold covers them (held); change removes (or marks) those no
// hold covers and returns one row each.
func (s *Store) expire(ctx context.Context, what string, limit int, c, change string, args ...any) (store.Expired, error) {
	if s.closed() {
		return store.Expired{}, store.ErrClosed
	}
	var e store.Expired
	var examined int
	var next *string
	err := s.pool.QueryRow(ctx, `WITH c AS (`+c+`), d AS (`+change+`)
		SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM c), (SELECT k FROM c ORDER BY o DESC LIMIT 1)`, args...).
		Scan(&e.Removed, &examined, &next)
	if err != nil {
		return store.Expired{}, fmt.Errorf("postgres: expire %s: %w", what, err)
	}
	if next != nil {
		e.Next = *next
	}
	e.Done = examined < limit
	return e, nil
}

// ExpireMessages runs one batch of store.HoldMethods' ExpireArchive or
// ExpireOffline in one statement (expire).
func (d *sqlDB) ExpireMessages(ctx context.Context, table, key, owner string, sc store.RetentionScope, before time.Time, from int64, limit int) (store.Expired, error) {
	cond, list := scopeCond("m."+owner, 3, sc)
	return (*Store)(d).expire(ctx, table, limit, `SELECT m.`+key+` AS o, m.`+key+`::text AS k, `+store.HeldBy("m."+owner, "m.stamp")+` AS held
		FROM `+table+` m WHERE m.`+key+` > $1 AND m.stamp < $2 AND `+cond+` ORDER BY m.`+key+` LIMIT $4`,
		`DELETE FROM `+table+` WHERE `+key+` IN (SELECT o FROM c WHERE NOT held) RETURNING 1`, from, before, list, limit)
}

// ExpireUploads marks old stored uploads no hold covers as expired at
// now, in ID order.
func (s *Store) ExpireUploads(ctx context.Context, sc store.RetentionScope, before, now time.Time, after string, limit int) (store.Expired, error) {
	cond, list := scopeCond("u.owner", 3, sc)
	return s.expire(ctx, "uploads", limit, `SELECT u.id AS o, u.id AS k, `+store.HeldBy("u.owner", "u.created")+` AS held
		FROM uploads u WHERE u.id > $1 AND u.state = $5 AND u.created < $2 AND u.expires > $6 AND `+cond+` ORDER BY u.id LIMIT $4`,
		`UPDATE uploads SET expires = $6 WHERE id IN (SELECT o FROM c WHERE NOT held) RETURNING 1`,
		after, before, list, limit, int(store.UploadStored), now)
}
