package config

// Push configures push notifications (XEP-0357): what the server tells
// the app servers clients register, and how often. Zero means the
// default.
type Push struct {
	// IncludeBody puts the last message's body into notifications
	// (default false: the app server, and Apple's or Google's push
	// service behind it, learn the sender's address and a count only).
	IncludeBody bool `toml:"include_body"`
	// MinInterval is the least time between two notifications to one
	// device (default 10s).
	MinInterval Duration `toml:"min_interval"`
	// MaxDevices bounds the registrations one account may keep (default
	// 20).
	MaxDevices int `toml:"max_devices"`
}

func (p *Push) validate() []error {
	var errs []error
	notNegative(&errs, "push.min_interval", p.MinInterval.Duration)
	notNegative(&errs, "push.max_devices", p.MaxDevices)
	return errs
}
