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
	if err != nil {
		return 0, m.fail(err, "count offline of %q", username)
	}
	return n, nil
}
