package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a Clock that moves only when told to. Timers fire inside
// Advance, in the order of their deadlines, so that when Advance returns
// every AfterFunc function that came due has run and every due timer's
// channel holds its value.
//
// Code under test arms its timers from its own goroutines: wait until
// Pending counts them (xmpptest.Eventually) before advancing past them.
type Fake struct {
	mu     sync.Mutex // guards now, timers and seq
	now    time.Time
	timers []*fakeTimer // armed, in no particular order
	seq    uint64       // arming order, to break deadline ties
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// AfterFunc implements Clock.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{clock: f, fn: fn}
	t.Reset(d)
	return t
}

// NewTimer implements Clock.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: f, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Pending is the number of armed timers.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// Next is the deadline of the earliest armed timer; false if none is.
func (f *Fake) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.nextDue(maxTime); t != nil {
		return t.when, true
	}
	return time.Time{}, false
}

// maxTime is later than any deadline.
var maxTime = time.Unix(1<<62, 0)

// Advance moves the clock forward by d, firing each timer that comes due
// with the clock set to its deadline. A timer armed by a firing one fires
// too if it is due by the end.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	end := f.now.Add(d)
	f.mu.Unlock()
	for {
		f.mu.Lock()
		t := f.nextDue(end)
		if t == nil {
			f.now = end
			f.mu.Unlock()
			return
		}
		f.remove(t)
		if t.when.After(f.now) {
			f.now = t.when
		}
		now := f.now
		f.mu.Unlock()
		// Outside the lock: fn may use the clock.
		if t.fn != nil {
			t.fn()
		} else {
			select {
			case t.c <- now:
			default: // like time.Timer: one value at most
			}
		}
	}
}

// nextDue is the armed timer with the earliest deadline not after end.
func (f *Fake) nextDue(end time.Time) *fakeTimer {
	if len(f.timers) == 0 {
		return nil
	}
	sort.Slice(f.timers, func(i, j int) bool {
		a, b := f.timers[i], f.timers[j]
		if !a.when.Equal(b.when) {
			return a.when.Before(b.when)
		}
		return a.seq < b.seq
	})
	if t := f.timers[0]; !t.when.After(end) {
		return t
	}
	return nil
}

// remove disarms t and reports whether it was armed.
func (f *Fake) remove(t *fakeTimer) bool {
	for i, x := range f.timers {
		if x == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			return true
		}
	}
	return false
}

type fakeTimer struct {
	clock *Fake
	fn    func()         // AfterFunc, or
	c     chan time.Time // NewTimer
	when  time.Time      // guarded by clock.mu
	seq   uint64         // guarded by clock.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	t.drain()
	return f.remove(t)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	t.drain()
	was := f.remove(t)
	f.seq++
	t.when, t.seq = f.now.Add(d), f.seq
	f.timers = append(f.timers, t)
	return was
}

// drain drops an undelivered value, as Go 1.23 timers do on Stop and Reset.
func (t *fakeTimer) drain() {
	if t.c == nil {
		return
	}
	select {
	case <-t.c:
	default:
	}
}
