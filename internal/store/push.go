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
