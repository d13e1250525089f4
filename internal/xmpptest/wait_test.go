package xmpptest

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	calls := 0
	if err := poll(time.Second, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet " + strconv.Itoa(calls))
		}
		return nil
	}); err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls, want nil after 3", err, calls)
	}
	// At the deadline the last error is returned, not the first.
	calls = 0
	err := poll(10*time.Millisecond, func() error {
		calls++
		return errors.New("try " + strconv.Itoa(calls))
	})
	if err == nil || err.Error() != "try "+strconv.Itoa(calls) || calls < 2 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}
