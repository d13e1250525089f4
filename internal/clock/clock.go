// Package clock is the time source of code whose timeouts tests must
// control: a server takes a Clock (nil meaning the system's), and a test
// gives it a Fake that it advances by hand, so that a five-minute timeout
// is tested without waiting five minutes or sleeping at all.
package clock

import "time"

// Clock tells the time and arms timers.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed. The returned Timer has no
	// channel (C returns nil), as with time.AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTimer sends the time on Timer.C once d has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is a *time.Timer as an interface, with C a method so that a fake
// can provide it.
type Timer interface {
	C() <-chan time.Time
	// Stop and Reset behave as their time.Timer namesakes (Go 1.23 and
	// later: no stale value is received after either returns).
	Stop() bool
	Reset(d time.Duration) bool
}

// System is the real clock.
var System Clock = system{}

// Or returns c, or System if c is nil, so that a zero Config field means
// the real clock.
func Or(c Clock) Clock {
	if c == nil {
		return System
	}
	return c
}

type system struct{}

func (system) Now() time.Time { return time.Now() }

func (system) AfterFunc(d time.Duration, f func()) Timer {
	return systemTimer{time.AfterFunc(d, f)}
}

func (system) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time        { return t.t.C }
func (t systemTimer) Stop() bool                 { return t.t.Stop() }
func (t systemTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
