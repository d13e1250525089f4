package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// runLogin has Concurrency workers log in over and over (user i mod Users,
// a new resource each time), send initial presence and end the stream,
// until Duration or Count.
func runLogin(ctx context.Context, g *gen) (*Result, error) {
	cfg := g.cfg
	res := &Result{}
	outer := ctx
	end := time.Now().Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	// over says the run has ended: a dial failing at the deadline is not
	// a failed login (the context's timer may fire after the dial's).
	over := func() bool { return ctx.Err() != nil || !time.Now().Before(end) }
	var (
		next, fails atomic.Int64
		mu          sync.Mutex // guards hist and firstErr
		hist        Histogram
		firstErr    error
		lastErr     error
		wg          sync.WaitGroup
	)
	m := g.startMeter(outer, cfg.Duration)
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h Histogram
			defer func() { mu.Lock(); hist.Merge(&h); mu.Unlock() }()
			for !over() {
				i := next.Add(1)
				if cfg.Count > 0 && i > int64(cfg.Count) {
					return
				}
				t0 := time.Now()
				c, err := Dial(ctx, g.login(int(i-1)%cfg.Users+1, "login"+strconv.FormatInt(i, 10), true))
				if err != nil {
					if over() {
						return // the run ended during this login
					}
					fails.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					lastErr = err
					mu.Unlock()
					continue
				}
				h.Record(time.Since(t0))
				c.End()
			}
		}()
	}
	wg.Wait()
	res.Logins = int64(hist.Count())
	res.LoginErrors = fails.Load()
	m.stop(outer, res, float64(res.Logins))
	res.LoginsPerSec = float64(res.Logins) / res.Elapsed
	res.LoginP50, res.LoginP99 = ms(hist.Quantile(0.5)), ms(hist.Quantile(0.99))
	if firstErr != nil {
		return res, fmt.Errorf("%d logins failed, the first: %w; the last: %v", res.LoginErrors, firstErr, lastErr)
	}
	return res, nil
}
