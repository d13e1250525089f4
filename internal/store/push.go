package store

import (
	"context"
	"time"
)

// PushRegistrations keeps the push notification registrations of accounts
// (XEP-0357): one per app server JID and node, that is per device. They
// belong to the account (deleting it deletes them).
type PushRegistrations interface {
	// PushRegistrations returns an account's registrations, oldest first.
	PushRegistrations(ctx context.Context, username string) ([]PushRegistration, error)
	// EnablePush adds the registration of r.Service and r.Node, or
	// replaces it (options and creation time); ErrNotFound if the account
	// does not exist.
	EnablePush(ctx context.Context, username string, r PushRegistration) error
	// DisablePush removes the registration of service and node, or every
	// registration with service when node is "" (XEP-0357 §6), and
	// returns how many it removed.
	DisablePush(ctx context.Context, username, service, node string) (int, error)
}

// PushRegistration is one device's registration with its app server.
type PushRegistration struct {
	Service string // the app server's JID
	Node    string // the node the app server gave the device
	// Options is the publish-options data form the client gave, as it
	// was serialised (XEP-0004 <x/>); nil when there was none.
	Options []byte
	Created time.Time
}

// Written beside the interface (measure.go's rule: one method each).

// PushRegistrations returns an account's registrations, oldest first.
func (m StmtMethods) PushRegistrations(ctx context.Context, username string) ([]PushRegistration, error) {
	out, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (PushRegistration, error) {
		var r PushRegistration
		var created ScanTime
		err := scan(&r.Service, &r.Node, &r.Options, &created)
		if len(r.Options) == 0 {
			r.Options = nil
		}
		r.Created = created.Time
		return r, err
	}, `SELECT service, node, options, created FROM push_registrations
		WHERE username = `+m.DB.Param(1)+` ORDER BY created, service, node`, username)
	if err != nil {
		return nil, m.fail(err, "push registrations of %q", username)
	}
	return out, nil
}

// EnablePush adds or replaces a registration; ErrNotFound without the
// account.
func (m StmtMethods) EnablePush(ctx context.Context, username string, r PushRegistration) error {
	p := m.DB.Param
	_, err := m.DB.Exec(ctx, `INSERT INTO push_registrations (username, service, node, options, created)
		VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`)
		ON CONFLICT (username, service, node) DO UPDATE SET options = excluded.options, created = excluded.created`,
		username, r.Service, r.Node, nonNilBytes(r.Options), m.DB.Stamp(r.Created))
	return m.fail(m.DB.MissingUser(err), "enable push for %q", username)
}

// DisablePush removes the registration of service and node, or all of
// service's when node is "".
func (m StmtMethods) DisablePush(ctx context.Context, username, service, node string) (int, error) {
	p := m.DB.Param
	n, err := m.DB.Exec(ctx, `DELETE FROM push_registrations
		WHERE username = `+p(1)+` AND service = `+p(2)+` AND (`+p(3)+` = '' OR node = `+p(4)+`)`,
		username, service, node, node)
	if err != nil {
		return 0, m.fail(err, "disable push for %q", username)
	}
	return int(n), nil
}
