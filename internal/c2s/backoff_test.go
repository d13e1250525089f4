package c2s

import (
	"fmt"
	"testing"
	"time"

	"parley/internal/clock"
)

func newTestBackoff() (*backoff, *clock.Fake) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return newBackoff(3, 30*time.Second, clk), clk
}

// guess answers one attempt and lets the attacker wait for the answer, as
// it must to learn the verdict; it returns the wait.
func guess(t *testing.T, b *backoff, clk *clock.Fake, ip, account string, success bool) time.Duration {
	t.Helper()
	wait, ok := b.answer(ip, account, success)
	if !ok {
		t.Fatalf("attempt from %s at %s refused although every answer was awaited", ip, account)
	}
	clk.Advance(wait)
	return wait
}

// 30 wrong passwords for one account from 10 addresses, three from each
// (never more than the free failures per address): per address they met
// no delay at all; per account they are answered one slot after another,
// the slots growing to the cap (issue 9 item 12).
func TestBackoffAccountAcrossAddresses(t *testing.T) {
	b, clk := newTestBackoff()
	var total, last time.Duration
	for i := range 30 {
		ip := fmt.Sprintf("127.0.0.%d", 1+i%10)
		last = guess(t, b, clk, ip, "victim", false)
		total += last
	}
	if last != 30*time.Second {
		t.Errorf("the 30th guess waited %v, want the 30 s cap", last)
	}
	// Slots of 250 ms, 500 ms, ... 16 s, then 30 s for the rest.
	if total < 10*time.Minute {
		t.Errorf("30 guesses over 10 addresses waited %v in all, want at least 10 min", total)
	}
	// The owner, from an address with no failures, is not delayed.
	if wait, ok := b.answer("192.0.2.7", "victim", true); !ok || wait != 0 {
		t.Errorf("owner's login from a clean address: wait %v ok %v", wait, ok)
	}
}

// From one address: three wrong guesses at the victim, then a success at
// the attacker's own account, over and over. The success clears neither
// the victim's failures nor the address's: the guesses slow down as if
// the successes were not there (before: the counter was reset, 30 guesses
// in 0.06 s).
func TestBackoffSuccessClearsNoOtherAccount(t *testing.T) {
	b, clk := newTestBackoff()
	var total time.Duration
	for range 10 {
		for range 3 {
			total += guess(t, b, clk, "198.51.100.1", "victim", false)
		}
		guess(t, b, clk, "198.51.100.1", "mallory", true)
	}
	if n := b.byAccount["victim"].n; n != 30 {
		t.Errorf("victim's failures = %d, want 30", n)
	}
	if total < 10*time.Minute {
		t.Errorf("30 guesses with successes in between waited %v, want at least 10 min", total)
	}
}

// Many guesses sent at once on parallel connections get their answers one
// slot apart; once the queue reaches further than the cap, further
// attempts are refused at once (temporary-auth-failure, no verdict) and
// not counted. It fades: after the forget period the account starts over.
func TestBackoffParallelGuessesQueue(t *testing.T) {
	b, clk := newTestBackoff()
	for i := range 3 {
		guess(t, b, clk, fmt.Sprintf("203.0.113.%d", i), "victim", false)
	}
	var waits []time.Duration
	refused := 0
	for i := range 50 {
		wait, ok := b.answer(fmt.Sprintf("203.0.113.%d", 100+i), "victim", false)
		if !ok {
			refused++
			continue
		}
		waits = append(waits, wait)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] <= waits[i-1] {
			t.Fatalf("answer %d at %v, not after answer %d at %v", i, waits[i], i-1, waits[i-1])
		}
	}
	if last := waits[len(waits)-1]; last > 30*time.Second {
		t.Errorf("an answer waits %v, beyond the 30 s cap", last)
	}
	if refused == 0 {
		t.Error("no attempt refused although the queue passed the cap")
	}
	// A success from an address that failed waits for its slot too, so
	// its timing does not give a hit away.
	if wait, ok := b.answer("203.0.113.100", "victim", true); ok && wait == 0 {
		t.Error("a success from an address with failures was answered at once during the attack")
	}
	clk.Advance(backoffForget + time.Minute)
	if wait := guess(t, b, clk, "203.0.113.100", "victim", false); wait != 0 {
		t.Errorf("after the forget period the first failure waits %v", wait)
	}
}

// Per address, as before: free failures, then doubling delays to the cap,
// whichever accounts they are for.
func TestBackoffPerAddress(t *testing.T) {
	b, clk := newTestBackoff()
	want := []time.Duration{0, 0, 0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second}
	for i, w := range want {
		if got := guess(t, b, clk, "192.0.2.1", fmt.Sprintf("user%d", i), false); got != w {
			t.Errorf("failure %d waited %v, want %v", i+1, got, w)
		}
	}
}
