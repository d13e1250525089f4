package register

import (
	"net/netip"
	"sync"
	"time"
)

// maxTracked bounds the addresses the limiter remembers. When it is full,
// new addresses are refused until old entries age out: registration stops
// for newcomers under a flood, memory does not grow.
const maxTracked = 1 << 16

// limiter allows at most per events per window for each address key.
type limiter struct {
	per    int
	window time.Duration

	mu        sync.Mutex // guards hits and lastPrune
	hits      map[string][]time.Time
	lastPrune time.Time
}

func newLimiter(per int, window time.Duration) *limiter {
	return &limiter{per: per, window: window, hits: make(map[string][]time.Time)}
}

// allow records an event for ip at now and reports whether it is within
// the limit. A refused event is not recorded, so waiting always helps.
func (l *limiter) allow(ip string, now time.Time) bool {
	key := addrKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastPrune) >= l.window {
		l.pruneLocked(now)
	}
	h := recent(l.hits[key], now.Add(-l.window))
	if len(h) >= l.per {
		l.hits[key] = h
		return false
	}
	if len(h) == 0 && len(l.hits) >= maxTracked {
		return false
	}
	l.hits[key] = append(h, now)
	return true
}

// pruneLocked drops events older than the window; l.mu must be held.
func (l *limiter) pruneLocked(now time.Time) {
	cut := now.Add(-l.window)
	for k, h := range l.hits {
		if h = recent(h, cut); len(h) == 0 {
			delete(l.hits, k)
		} else {
			l.hits[k] = h
		}
	}
	l.lastPrune = now
}

// recent returns the events of h after cut (h is in time order).
func recent(h []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(h) && !h[i].After(cut) {
		i++
	}
	return h[i:]
}

// addrKey is the unit rate limits apply to: the IPv4 address, or the /64
// of an IPv6 address (one subscriber's allocation, RFC 6177). Anything
// unparsable is used as given.
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(ip)
		if err2 != nil {
			return ip
		}
		a = ap.Addr()
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64) // cannot fail for 64 <= 128
	return p.String()
}
