package store

import "context"

// The methods of VCards, PrivateXML and Blocklists that both SQL backends
// share (StmtMethods).

// VCard returns ErrNotFound when the user has none.
func (m StmtMethods) VCard(ctx context.Context, username string) ([]byte, error) {
	v, err := queryValue[[]byte](ctx, m.DB, `SELECT vcard FROM vcards WHERE username = `+m.DB.Param(1), username)
	return v, m.fail(err, "vcard of %q", username)
}

// SetVCard stores or replaces the user's vCard; ErrNotFound if the user
// does not exist.
func (m StmtMethods) SetVCard(ctx context.Context, username string, vcard []byte) error {
	_, err := m.DB.Exec(ctx, `INSERT INTO vcards (username, vcard) VALUES (`+m.DB.Param(1)+`, `+m.DB.Param(2)+`)
		ON CONFLICT (username) DO UPDATE SET vcard = excluded.vcard`, username, nonNilBytes(vcard))
	return m.fail(m.DB.MissingUser(err), "set vcard of %q", username)
}

// PrivateXML returns ErrNotFound when nothing is stored under key.
func (m StmtMethods) PrivateXML(ctx context.Context, username, key string) ([]byte, error) {
	v, err := queryValue[[]byte](ctx, m.DB, `SELECT data FROM private_xml WHERE username = `+m.DB.Param(1)+
		` AND key = `+m.DB.Param(2), username, key)
	return v, m.fail(err, "private xml %q of %q", key, username)
}

// SetPrivateXML stores or replaces data under (username, key);
// ErrNotFound if the user does not exist.
func (m StmtMethods) SetPrivateXML(ctx context.Context, username, key string, data []byte) error {
	p := m.DB.Param
	_, err := m.DB.Exec(ctx, `INSERT INTO private_xml (username, key, data) VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`)
		ON CONFLICT (username, key) DO UPDATE SET data = excluded.data`, username, key, nonNilBytes(data))
	return m.fail(m.DB.MissingUser(err), "set private xml %q of %q", key, username)
}

// Blocklist returns the user's blocked JIDs in ascending byte order.
func (m StmtMethods) Blocklist(ctx context.Context, username string) ([]string, error) {
	jids, err := QueryRows(ctx, m.DB, scanValue[string],
		`SELECT jid FROM blocklist WHERE username = `+m.DB.Param(1)+` ORDER BY jid`, username)
	return jids, m.fail(err, "blocklist of %q", username)
}

// PrivateXMLSizes returns the length in bytes of each of a user's stored
// elements (octet_length: SQLite, as PostgreSQL, reads a blob's length
// without the blob).
func (m StmtMethods) PrivateXMLSizes(ctx context.Context, username string) (map[string]int, error) {
	out, err := queryMap[string, int](ctx, m.DB,
		`SELECT key, octet_length(data) FROM private_xml WHERE username = `+m.DB.Param(1), username)
	return out, m.fail(err, "private xml sizes of %q", username)
}
