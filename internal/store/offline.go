package store

import "context"

// The reads of Offline that both SQL backends share (StmtMethods).

// OfflineMessages returns a user's stored messages in arrival order.
func (m StmtMethods) OfflineMessages(ctx context.Context, username string) ([]OfflineMessage, error) {
	msgs, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (OfflineMessage, error) {
		var msg OfflineMessage
		var stamp ScanTime
		err := scan(&msg.ID, &stamp, &msg.Stanza)
		msg.Stamp = stamp.Time
		return msg, err
	}, `SELECT id, stamp, stanza FROM offline WHERE username = `+m.DB.Param(1)+` ORDER BY id`, username)
	if err != nil {
		return nil, m.fail(err, "offline messages of %q", username)
	}
	return msgs, nil
}

// CountOffline returns how many messages wait for the user.
func (m StmtMethods) CountOffline(ctx context.Context, username string) (int, error) {
	n, err := queryValue[int](ctx, m.DB, `SELECT count(*) FROM offline WHERE username = `+m.DB.Param(1), username)
	return n, m.fail(err, "count offline of %q", username)
}

// OfflineUsage returns how many messages wait for the user and their
// bytes (octet_length reads a blob's length without the blob, a
// TOASTed value's in PostgreSQL too).
func (m StmtMethods) OfflineUsage(ctx context.Context, username string) (int, int64, error) {
	var n int
	var b int64
	err := m.DB.Query(ctx, `SELECT count(*), coalesce(sum(octet_length(stanza)), 0) FROM offline
		WHERE username = `+m.DB.Param(1), []any{username}, func(scan func(...any) error) error { return scan(&n, &b) })
	if err != nil {
		return 0, 0, m.fail(err, "offline usage of %q", username)
	}
	return n, b, nil
}

// DeleteOffline removes the listed messages of username in one statement
// whatever the count (ExecDB.In); IDs that are unknown or belong to
// someone else are ignored.
func (m StmtMethods) DeleteOffline(ctx context.Context, username string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	in, list := m.DB.In("id", 2, ids)
	_, err := m.DB.Exec(ctx, `DELETE FROM offline WHERE username = `+m.DB.Param(1)+` AND `+in, username, list)
	return m.fail(err, "delete offline of %q", username)
}
