package store

import (
	"context"
	"strings"
)

// The reads of Transfers (and of the other interfaces parley migrate
// copies through) that both SQL backends share (StmtMethods).

// queryMap reads a query of two columns, key and value, into a map
// (empty, not nil, for no rows).
func queryMap[K comparable, V any](ctx context.Context, db QueryDB, q string, args ...any) (map[K]V, error) {
	out := map[K]V{}
	err := db.Query(ctx, q, args, func(scan func(...any) error) error {
		var k K
		var v V
		if err := scan(&k, &v); err != nil {
			return err
		}
		out[k] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PrivateXMLKeys returns a user's private XML keys in ascending byte order.
func (m StmtMethods) PrivateXMLKeys(ctx context.Context, username string) ([]string, error) {
	keys, err := QueryRows(ctx, m.DB, scanValue[string],
		`SELECT key FROM private_xml WHERE username = `+m.DB.Param(1)+` ORDER BY key`, username)
	return keys, m.fail(err, "private xml keys of %q", username)
}

// RosterVersions returns every recorded roster version, deleted accounts'
// included.
func (m StmtMethods) RosterVersions(ctx context.Context) (map[string]int64, error) {
	out, err := queryMap[string, int64](ctx, m.DB, `SELECT username, version FROM roster_versions`)
	return out, m.fail(err, "roster versions")
}

// AuditCursors returns every sink's cursor.
func (m StmtMethods) AuditCursors(ctx context.Context) (map[string]int64, error) {
	out, err := queryMap[string, int64](ctx, m.DB, `SELECT sink, seq FROM audit_cursors`)
	return out, m.fail(err, "audit cursors")
}

// PubSubServices returns every service with nodes, in byte order.
func (m StmtMethods) PubSubServices(ctx context.Context) ([]string, error) {
	out, err := QueryRows(ctx, m.DB, scanValue[string], `SELECT DISTINCT service FROM pubsub_nodes ORDER BY service`)
	return out, m.fail(err, "pubsub services")
}

// StrangerFilters returns every recorded stranger-filter choice.
func (m StmtMethods) StrangerFilters(ctx context.Context) (map[string]bool, error) {
	out, err := queryMap[string, bool](ctx, m.DB, `SELECT username, refuse FROM stranger_filters`)
	return out, m.fail(err, "stranger filters")
}

// TableRows counts the rows of every table of the store's schema.
func (m StmtMethods) TableRows(ctx context.Context) (map[string]int64, error) {
	names, err := QueryRows(ctx, m.DB, scanValue[string], m.DB.TableNames())
	if err != nil {
		return nil, m.fail(err, "tables")
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		// The names come from the schema itself, quoted as identifiers.
		c, err := queryValue[int64](ctx, m.DB, `SELECT count(*) FROM "`+strings.ReplaceAll(n, `"`, `""`)+`"`)
		if err != nil {
			return nil, m.fail(err, "rows of %s", n)
		}
		out[n] = c
	}
	return out, nil
}
