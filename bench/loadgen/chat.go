package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// drainBound is how long the end of a chat run waits for messages in
// flight (a slow server may be seconds behind).
const drainBound = 30 * time.Second

// base is the origin of the timestamps carried in message bodies; sender
// and receiver are in this process, so its monotonic clock serves both.
var base = time.Now()

// pair is one sender and one receiver. The sender keeps at most Window
// messages in flight: the receiver's reader returns a credit for every
// message it gets.
type pair struct {
	sender, receiver *Conn
	to               string // the receiver's full JID
	window
	bounced atomic.Uint64

	// owned by the receiver's reader until it returns
	tr   SeqTracker
	hist Histogram
	bad  uint64 // messages whose body was not ours
}

func runChat(ctx context.Context, g *gen) (*Result, error) { return chat(ctx, g, 0) }

func runLatency(ctx context.Context, g *gen) (*Result, error) { return chat(ctx, g, g.cfg.Rate) }

// chat runs the pairs flat out (rate 0) or at rate messages/s in all.
func chat(ctx context.Context, g *gen, rate float64) (*Result, error) {
	cfg := g.cfg
	res := &Result{Pairs: cfg.Pairs, Window: cfg.Window, OfferedRate: rate}
	if cfg.Users < 2*cfg.Pairs {
		return res, fmt.Errorf("%d pairs need %d users, have %d", cfg.Pairs, 2*cfg.Pairs, cfg.Users)
	}
	pairs := make([]*pair, cfg.Pairs)
	for i := range pairs {
		pairs[i] = &pair{window: newWindow()}
	}
	defer func() {
		for _, p := range pairs {
			for _, c := range []*Conn{p.sender, p.receiver} {
				if c != nil {
					c.Close()
				}
			}
		}
	}()
	if err := g.loginAll(ctx, 2*cfg.Pairs, func(i int) (int, string) { return i + 1, "chat" }, func(i int, c *Conn) {
		if i%2 == 0 {
			pairs[i/2].sender = c
		} else {
			pairs[i/2].receiver = c
			pairs[i/2].to = c.JID
		}
	}); err != nil {
		return res, err
	}
	g.progress("%s: %d pairs logged in", cfg.Server, cfg.Pairs)

	h := newHalt()
	var readers sync.WaitGroup
	deadline := time.Now().Add(cfg.Duration + time.Minute)
	for i, p := range pairs {
		p.sender.SetDeadline(deadline)
		p.receiver.SetDeadline(deadline)
		readers.Add(2)
		go func() {
			defer readers.Done()
			h.Fail(fmt.Errorf("receiver %d (%s): %w", i, p.to, p.receive()))
		}()
		go func() {
			defer readers.Done()
			h.Fail(fmt.Errorf("sender %d (%s): %w", i, p.sender.JID, p.drainSender()))
		}()
	}
	m := g.startMeter(ctx, cfg.Duration)
	ctxStop := context.AfterFunc(ctx, func() { h.Fail(fmt.Errorf("run bound: %w", ctx.Err())) })
	defer ctxStop()
	senders := make([]sender, len(pairs))
	for i, p := range pairs {
		senders[i] = sender{&p.window, p.sender, i, []byte("<message type='chat' to='" + p.to + "'><body>")}
	}
	g.sendAll(h, senders, rate)
	// Drain: wait for what is in flight, up to a bound; what has not
	// arrived by then counts as lost.
	h.drain(func() bool {
		var n int64
		for _, p := range pairs {
			n += p.inflight.Load()
		}
		return n <= 0
	})
	h.closing.Store(true)
	for _, p := range pairs {
		p.sender.Close()
		p.receiver.Close()
	}
	readers.Wait()

	var hist Histogram
	var bounced, bad uint64
	for _, p := range pairs {
		sent := p.sent.Load()
		res.Sent += sent
		res.Delivered += p.tr.Unique
		res.Lost += p.tr.Lost(sent)
		res.Duplicated += p.tr.Duplicates
		res.OutOfOrder += p.tr.OutOfOrder
		bounced += p.bounced.Load()
		bad += p.bad + p.tr.Unexpected(sent)
		hist.Merge(&p.hist)
	}
	m.stop(ctx, res, float64(res.Delivered))
	res.MsgsPerSec = float64(res.Delivered) / res.Elapsed
	res.LatP50, res.LatP99, res.LatP999, res.LatMax = ms(hist.Quantile(0.5)), ms(hist.Quantile(0.99)), ms(hist.Quantile(0.999)), ms(hist.Max())
	err := h.Err()
	if bounced > 0 {
		err = errors.Join(err, fmt.Errorf("the server bounced %d messages", bounced))
	}
	if bad > 0 {
		err = errors.Join(err, fmt.Errorf("%d messages arrived that were never sent", bad))
	}
	return res, err
}

// window is the sending side of a bounded window: the messages in flight,
// those sent, and a wake-up when a credit comes back.
type window struct {
	inflight atomic.Int64
	sent     atomic.Uint64
	wake     chan struct{} // a credit came back
}

func newWindow() window { return window{wake: make(chan struct{}, 1)} }

// credit returns one message's place in the window.
func (w *window) credit() {
	w.inflight.Add(-1)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// sender is one sending connection of a run: its window, its number
// (in errors) and the start of every message it sends.
type sender struct {
	w      *window
	c      *Conn
	idx    int
	prefix []byte
}

// sendAll runs the senders until the run's Duration is over, its Count of
// messages (if any) is sent or it fails, at rate messages/s in all (0: as
// fast as their windows allow), and then stops the run.
func (g *gen) sendAll(h *halt, senders []sender, rate float64) {
	var (
		wg     sync.WaitGroup
		budget atomic.Int64
	)
	budget.Store(int64(g.cfg.Count))
	timer := time.AfterFunc(g.cfg.Duration, h.Stop)
	defer timer.Stop()
	t0 := time.Now()
	for _, s := range senders {
		wg.Go(func() {
			err := s.w.send(h.stop, s.c, s.prefix, g.cfg.Window, rate/float64(len(senders)), t0, &budget, g.cfg.Count > 0)
			if err != nil {
				h.Fail(fmt.Errorf("sender %d (%s): %w", s.idx, s.c.JID, err))
			}
		})
	}
	wg.Wait()
	h.Stop()
}

// send writes messages made of prefix, a sequence number and the time to
// c until stop, as many as the window (size) allows, in one write. With
// perSec > 0 it also keeps to that rate from t0; with limited set, each
// message is first taken from budget.
func (w *window) send(stop <-chan struct{}, c *Conn, prefix []byte, size int, perSec float64, t0 time.Time, budget *atomic.Int64, limited bool) error {
	buf := make([]byte, 0, 64<<10)
	var tick *time.Ticker
	if perSec > 0 {
		iv := time.Duration(float64(time.Second) / perSec)
		tick = time.NewTicker(min(max(iv, time.Millisecond), 10*time.Millisecond))
		defer tick.Stop()
	}
	for {
		n := int64(size) - w.inflight.Load()
		if tick != nil {
			n = min(n, int64(time.Since(t0).Seconds()*perSec)-int64(w.sent.Load()))
		}
		if n <= 0 {
			var wait <-chan struct{} = w.wake
			if tick != nil {
				wait = nil
			}
			select {
			case <-stop:
				return nil
			case <-wait:
			case <-tickC(tick):
			}
			continue
		}
		select {
		case <-stop:
			return nil
		default:
		}
		if limited {
			if n = claim(budget, n); n == 0 {
				return nil
			}
		}
		buf = appendMessages(buf[:0], prefix, w.sent.Load(), uint64(time.Since(base)), n)
		w.inflight.Add(n)
		w.sent.Add(uint64(n))
		if err := c.Write(buf); err != nil {
			return err
		}
	}
}

// tickC is t's channel, or nil (never ready) without a ticker.
func tickC(t *time.Ticker) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

// receive reads the receiver's stream: every message returns a credit.
// It returns when the connection fails or is closed.
func (p *pair) receive() error {
	c := p.receiver
	for {
		u, kind, err := c.Next()
		if err != nil {
			return err
		}
		if kind != unitElement || len(u) < 8 || u[1] != 'm' || localName(u) != "message" {
			continue
		}
		now := time.Since(base)
		body := childText(u, "body")
		sp := bytes.IndexByte(body, ' ')
		if sp < 0 {
			p.bad++
			continue
		}
		seq, err1 := strconv.ParseUint(string(body[:sp]), 10, 64)
		ts, err2 := strconv.ParseInt(string(body[sp+1:]), 10, 64)
		if err1 != nil || err2 != nil {
			p.bad++
			continue
		}
		p.tr.Add(seq)
		p.hist.Record(now - time.Duration(ts))
		p.credit()
	}
}

// drainSender reads what the server sends the sender (its own presence,
// bounces) so nothing queues up; an error bounce is counted.
func (p *pair) drainSender() error {
	for {
		u, kind, err := p.sender.Next()
		if err != nil {
			return err
		}
		if kind == unitElement && localName(u) == "message" && attr(u, "type") == "error" {
			p.bounced.Add(1)
		}
	}
}

// loginAll logs in n sessions with Concurrency at a time; who(i) says the
// user number and resource of session i, and got is called with each
// session (from several goroutines, for distinct i). It stops at the first
// failure.
func (g *gen) loginAll(ctx context.Context, n int, who func(i int) (int, string), got func(i int, c *Conn)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // guards firstErr
		firstErr error
	)
	each(ctx, g.cfg.Concurrency, n, func(i int) {
		user, res := who(i)
		c, err := Dial(ctx, g.login(user, res+strconv.Itoa(i), true))
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("login %d of %d: %w", i+1, n, err)
			}
			mu.Unlock()
			cancel()
			return
		}
		got(i, c)
	})
	return firstErr
}

// claim takes up to n messages from a run's budget and returns how many it
// got (0 once the budget is spent).
func claim(budget *atomic.Int64, n int64) int64 {
	if left := budget.Add(-n); left < 0 {
		n = max(n+left, 0)
	}
	return n
}

// appendMessages appends n messages made of prefix, consecutive sequence
// numbers from seq and the send time now (ns since the run's base), and
// the closing tags.
func appendMessages(buf, prefix []byte, seq, now uint64, n int64) []byte {
	for k := range uint64(n) {
		buf = append(buf, prefix...)
		buf = strconv.AppendUint(buf, seq+k, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendUint(buf, now, 10)
		buf = append(buf, "</body></message>"...)
	}
	return buf
}
