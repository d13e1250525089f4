package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"parley/internal/store"
)

// strangersSchema is the migration step for the accounts' choice to
// refuse strangers (internal/im/spam); it goes with the account.
const strangersSchema = `
CREATE TABLE stranger_filters (
	username TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
	refuse   INTEGER NOT NULL
) WITHOUT ROWID;
`

func (d *sqlDB) GetSetting(ctx context.Context, c store.SettingColumn, username string, dest any) error {
	err := d.r.QueryRowContext(ctx, `SELECT `+c.Column+` FROM `+c.Table+` WHERE username = ?`, username).Scan(dest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

func (d *sqlDB) PutSetting(ctx context.Context, c store.SettingColumn, username string, value any) error {
	return (*Store)(d).write(ctx, func(tx *sql.Tx) error {
		if value == nil {
			_, err := tx.Exec(`DELETE FROM `+c.Table+` WHERE username = ?`, username)
			return err
		}
		_, err := tx.Exec(`INSERT INTO `+c.Table+` (username, `+c.Column+`) VALUES (?, ?)
			ON CONFLICT (username) DO UPDATE SET `+c.Column+` = excluded.`+c.Column, username, value)
		return missingUser(err)
	})
}
