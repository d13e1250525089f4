package postgres

import (
	"context"
	"errors"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// strangersSchema is the migration step for the accounts' choice to
// refuse strangers (internal/im/spam); it goes with the account.
const strangersSchema = `
CREATE TABLE stranger_filters (
	username text COLLATE "C" PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
	refuse   boolean NOT NULL
);
`

func (d *sqlDB) GetSetting(ctx context.Context, c store.SettingColumn, username string, dest any) error {
	err := d.pool.QueryRow(ctx, `SELECT `+c.Column+` FROM `+c.Table+` WHERE username = $1`, username).Scan(dest)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

func (d *sqlDB) PutSetting(ctx context.Context, c store.SettingColumn, username string, value any) error {
	if value == nil {
		_, err := (*Store)(d).exec(ctx, `DELETE FROM `+c.Table+` WHERE username = $1`, username)
		return err
	}
	_, err := (*Store)(d).exec(ctx, `INSERT INTO `+c.Table+` (username, `+c.Column+`) VALUES ($1, $2)
		ON CONFLICT (username) DO UPDATE SET `+c.Column+` = excluded.`+c.Column, username, value)
	return missingUser(err)
}
