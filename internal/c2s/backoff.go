package c2s

import (
	"context"
	"sync"
	"time"

	"parley/internal/clock"
)

// backoff slows down password guessing, per address and per account
// (docs/SECURITY.md, "Listeners, HTTP and authentication"):
//
//   - Per address: after `free` failures from one address, each further
//     failure from it is answered after a delay that doubles from 250 ms
//     up to max.
//   - Per account: once an account has `free` recent failures (from any
//     addresses), the answers to attempts at it (failures, and successes
//     from an address with recent failures) are given one at a time, in
//     slots spaced by a delay that doubles with its failures up to max. A
//     guess spread over many addresses, or sent on many connections at
//     once, thus learns one verdict per slot. When the next free slot is
//     more than max away the attempt is answered temporary-auth-failure at
//     once, without a verdict, so that waiting answers never pile up.
//   - A success from an address with no recent failures is never delayed:
//     an attacker cannot lock the owner out, only slow down logins from
//     addresses that failed too.
//   - A success clears nothing: one account's success never clears
//     another's failures (nor the address's, which may be another
//     account's). A record is forgotten backoffForget after its last
//     failure.
type backoff struct {
	clock clock.Clock

	mu        sync.Mutex    // guards free, max, byIP and byAccount
	free      int           // failures before delays start
	max       time.Duration // longest delay, and how far ahead slots are given
	byIP      map[string]failRecord
	byAccount map[string]failRecord
}

type failRecord struct {
	n    int       // failures since the record was last forgotten
	last time.Time // last failure
	next time.Time // per account: when the next answer may be given
}

const (
	backoffBase   = 250 * time.Millisecond
	backoffForget = 15 * time.Minute
	backoffLimit  = 100000 // addresses, and accounts, remembered; beyond it, the oldest go
)

func newBackoff(free int, max time.Duration, clk clock.Clock) *backoff {
	return &backoff{free: free, max: max, clock: clk,
		byIP: make(map[string]failRecord), byAccount: make(map[string]failRecord)}
}

// answer records the outcome of a password check for account from ip and
// says when to answer it: after wait, or, when ok is false, at once with
// temporary-auth-failure instead of the verdict.
func (b *backoff) answer(ip, account string, success bool) (wait time.Duration, ok bool) {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	ipr := current(b.byIP[ip], now)
	if success && ipr.n == 0 {
		return 0, true
	}
	acr := current(b.byAccount[account], now)
	if acr.n >= b.free {
		at := acr.next
		if at.Before(now) {
			at = now
		}
		if at.Sub(now) > b.max {
			return 0, false
		}
		acr.next = at.Add(b.delay(acr.n - b.free))
		wait = at.Sub(now)
	}
	if !success {
		ipr.n++
		ipr.last = now
		acr.n++
		acr.last = now
		if ipr.n > b.free {
			wait = max(wait, b.delay(ipr.n-b.free-1))
		}
		remember(b.byIP, ip, ipr, now)
	}
	if acr.n > 0 {
		remember(b.byAccount, account, acr, now)
	}
	return wait, true
}

// set changes the free failures and the longest delay (a reload).
func (b *backoff) set(free int, max time.Duration) {
	b.mu.Lock()
	b.free, b.max = free, max
	b.mu.Unlock()
}

// sleep waits d on the server's clock, or until ctx ends.
func (b *backoff) sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := b.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
	case <-ctx.Done():
	}
}

// delay is backoffBase doubled k times, at most max.
func (b *backoff) delay(k int) time.Duration {
	return min(backoffBase<<min(k, 16), b.max)
}

// current is r, or a fresh record if r's last failure is forgotten.
func current(r failRecord, now time.Time) failRecord {
	if now.Sub(r.last) > backoffForget && !r.next.After(now) {
		return failRecord{}
	}
	return r
}

// remember keeps r under key, first dropping forgotten records if the map is
// full (or all of them, if none is forgotten).
func remember(m map[string]failRecord, key string, r failRecord, now time.Time) {
	if _, ok := m[key]; !ok && len(m) >= backoffLimit {
		for k, old := range m {
			if current(old, now) == (failRecord{}) {
				delete(m, k)
			}
		}
		if len(m) >= backoffLimit {
			clear(m)
		}
	}
	m[key] = r
}
