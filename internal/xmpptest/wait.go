package xmpptest

import (
	"testing"
	"time"
)

// Eventually calls cond until it returns nil, and fails the test with
// cond's last error if that has not happened within timeout. It waits
// for a condition instead of for a time (nats-server's checkFor): the
// polls start 1 ms apart and grow to 20 ms, so a test takes as long as
// the condition does and no longer.
func Eventually(tb testing.TB, timeout time.Duration, cond func() error) {
	tb.Helper()
	if err := poll(timeout, cond); err != nil {
		tb.Fatalf("not within %v: %v", timeout, err)
	}
}

// poll returns nil once cond held, or cond's last error at the deadline.
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	interval := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return err
		}
		time.Sleep(min(interval, time.Until(deadline)))
		interval = min(2*interval, 20*time.Millisecond)
	}
}
