package adminapi

import (
	"net/netip"
	"sync"
	"time"
)

// Failed authentication back-off, per source address (docs/SECURITY.md,
// "Admin API"): a guess of a 256-bit token is hopeless, but each guess
// costs a store lookup and an audit record, and a password (POST
// /me/token) can be guessed. After authFree failures from an address,
// each further failure closes the API to it for a time that doubles from
// authBase up to authMax; meanwhile it is answered 429 with Retry-After
// before any token or password is looked at (and not audited: the
// failure that started the wait was). A record is forgotten authForget
// after its last failure. IPv6 clients are counted by their /64, which
// one subscriber usually holds whole.
const (
	authFree   = 10
	authBase   = time.Second
	authMax    = 5 * time.Minute
	authForget = 15 * time.Minute
	authKeys   = 100000 // addresses remembered; beyond it, the memory starts again
)

type authLimit struct {
	now func() time.Time

	mu   sync.Mutex // guards byIP
	byIP map[netip.Prefix]*authFailures
}

type authFailures struct {
	n     int       // failures since the record was last forgotten
	last  time.Time // of the last failure
	until time.Time // closed to the address until then
}

func newAuthLimit(now func() time.Time) *authLimit {
	return &authLimit{now: now, byIP: make(map[netip.Prefix]*authFailures)}
}

// key is the address's /32 (IPv4) or /64 (IPv6); the zero Prefix for a
// remote address that does not parse (all such share one record).
func authKey(ip string) netip.Prefix {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// wait returns how long the API stays closed to ip (0: open).
func (l *authLimit) wait(ip string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.byIP[authKey(ip)]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// failed records a failed authentication from ip and returns how long the
// API is now closed to it (0: not yet).
func (l *authLimit) failed(ip string) time.Duration {
	now := l.now()
	k := authKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.byIP[k]
	if f == nil || now.Sub(f.last) >= authForget {
		if f == nil && len(l.byIP) >= authKeys {
			clear(l.byIP)
		}
		f = &authFailures{}
		l.byIP[k] = f
	}
	f.n++
	f.last = now
	if f.n <= authFree {
		return 0
	}
	d := authBase << min(f.n-authFree-1, 20)
	d = min(d, authMax)
	f.until = now.Add(d)
	return d
}
