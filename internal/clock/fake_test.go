package clock

import (
	"slices"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestFakeOrder: timers fire in deadline order, each seeing the clock at
// its own deadline, and only when due.
func TestFakeOrder(t *testing.T) {
	f := NewFake(epoch)
	var fired []time.Duration
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		f.AfterFunc(d, func() { fired = append(fired, f.Now().Sub(epoch)) })
	}
	if next, ok := f.Next(); !ok || !next.Equal(epoch.Add(time.Second)) {
		t.Fatalf("Next() = %v, %v", next, ok)
	}
	f.Advance(1500 * time.Millisecond)
	if !slices.Equal(fired, []time.Duration{time.Second}) || f.Pending() != 2 {
		t.Fatalf("after 1.5 s: fired %v, %d pending", fired, f.Pending())
	}
	f.Advance(2 * time.Second)
	if want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(fired, want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	if _, ok := f.Next(); ok {
		t.Fatal("Next() reports a timer when none is armed")
	}
	if got := f.Now().Sub(epoch); got != 3500*time.Millisecond || f.Pending() != 0 {
		t.Fatalf("clock at %v, %d pending", got, f.Pending())
	}
}

// TestFakeTimer: a timer's channel holds one value once due; Stop and
// Reset disarm it and drop an unread value.
func TestFakeTimer(t *testing.T) {
	f := NewFake(epoch)
	tm := f.NewTimer(time.Minute)
	f.Advance(59 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("fired early")
	default:
	}
	f.Advance(time.Second)
	select {
	case now := <-tm.C():
		if !now.Equal(epoch.Add(time.Minute)) {
			t.Fatalf("fired at %v", now)
		}
	default:
		t.Fatal("not fired when due")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a fired timer reported it armed")
	}
	f.Advance(time.Second) // fires, value unread
	if tm.Reset(time.Second) || len(tm.C()) != 0 {
		t.Fatal("Reset kept a stale value")
	}
	if !tm.Stop() || tm.Stop() {
		t.Fatal("Stop: want true, then false")
	}
	f.Advance(time.Hour)
	if len(tm.C()) != 0 {
		t.Fatal("a stopped timer fired")
	}
}

// TestFakeRearm: a function that arms a timer due within the same
// Advance fires in it (a periodic sweep driven by one Advance).
func TestFakeRearm(t *testing.T) {
	f := NewFake(epoch)
	n := 0
	var tick func()
	tick = func() { n++; f.AfterFunc(time.Second, tick) }
	f.AfterFunc(time.Second, tick)
	f.Advance(10 * time.Second)
	if n != 10 {
		t.Fatalf("ticked %d times in 10 s, want 10", n)
	}
}

// TestOr: a nil Clock is the system's.
func TestOr(t *testing.T) {
	f := NewFake(epoch)
	if Or(nil) != System || Or(f) != f {
		t.Fatal("Or")
	}
	if d := time.Since(Or(nil).Now()); d < 0 || d > time.Minute {
		t.Fatalf("system clock off by %v", d)
	}
}
