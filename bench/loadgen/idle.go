package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// runIdle opens Conns authenticated sessions spread over the users (a
// resource each), lets them rest for Settle and reads the server's RSS
// before and after: the growth divided by the sessions is what one idle
// session costs. Then every session is pinged (XEP-0199) to check that the
// server still holds all of them.
func runIdle(ctx context.Context, g *gen) (*Result, error) {
	cfg := g.cfg
	res := &Result{Conns: cfg.Conns}
	var before ProcSample
	if cfg.PID > 0 {
		var err error
		if before, err = ReadProc(cfg.PID); err != nil {
			return res, fmt.Errorf("server process: %w", err)
		}
		res.RSSBefore = before.RSS
	}
	conns := make([]*Conn, cfg.Conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	m := g.startMeter(ctx, 0)
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration+time.Minute+time.Duration(cfg.Conns)*20*time.Millisecond)
	defer cancel()
	var opened atomic.Int64
	err := g.loginAll(lctx, cfg.Conns, func(i int) (int, string) { return i%cfg.Users + 1, "idle" }, func(i int, c *Conn) {
		c.ReleaseBuffer()
		conns[i] = c
		if n := opened.Add(1); n%2000 == 0 {
			g.progress("%s: %d idle sessions", cfg.Server, n)
		}
	})
	res.Logins = opened.Load()
	if err != nil {
		m.stop(ctx, res, float64(res.Logins))
		return res, err
	}
	select {
	case <-time.After(cfg.Settle):
	case <-cfg.Release:
	case <-ctx.Done():
		m.stop(ctx, res, float64(res.Logins))
		return res, ctx.Err()
	}
	// CPU per login over the logins and the rest; the heap profile (if
	// asked) shows what the idle sessions hold.
	m.stop(ctx, res, float64(res.Logins))
	if cfg.PID > 0 {
		after, err := ReadProc(cfg.PID)
		if err != nil {
			return res, fmt.Errorf("server process: %w", err)
		}
		res.RSSAfter = after.RSS
	}
	res.ConnsAlive = pingAll(ctx, g, conns)
	if res.ConnsAlive > 0 && cfg.PID > 0 {
		res.BytesPerConn = float64(res.RSSAfter-res.RSSBefore) / float64(cfg.Conns)
	}
	if res.ConnsAlive < cfg.Conns {
		return res, fmt.Errorf("%d of %d idle sessions did not answer a ping", cfg.Conns-res.ConnsAlive, cfg.Conns)
	}
	return res, nil
}

// pingAll sends every session an XEP-0199 ping to the server, all of them
// first and then the answers (a slow server is not held to one round trip
// at a time), and counts the sessions that answer within 60 s.
func pingAll(ctx context.Context, g *gen, conns []*Conn) int {
	deadline := time.Now().Add(60 * time.Second)
	ping := []byte("<iq type='get' id='idleping' to='" + g.cfg.Domain + "'><ping xmlns='urn:xmpp:ping'/></iq>")
	sent := make([]bool, len(conns))
	each(ctx, 64, len(conns), func(i int) {
		conns[i].SetDeadline(deadline)
		sent[i] = conns[i].Write(ping) == nil
	})
	var alive atomic.Int64
	each(ctx, 64, len(conns), func(i int) {
		if !sent[i] {
			return
		}
		c := conns[i]
		for {
			u, kind, err := c.Next()
			if err != nil {
				return
			}
			if kind == unitElement && localName(u) == "iq" && attr(u, "id") == "idleping" {
				alive.Add(1)
				c.ReleaseBuffer()
				return
			}
		}
	})
	return int(alive.Load())
}

// each calls f(0..n-1) from up to workers goroutines, until ctx ends.
func each(ctx context.Context, workers, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
