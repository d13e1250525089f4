package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// mucConfigID is the id of the creator's configuration IQ.
const mucConfigID = "bench-room-config"

// mucOccupant is one session in the room, under nickname o<idx>. The
// first Senders occupants also send; an occupant's sender index is its
// idx.
type mucOccupant struct {
	idx  int
	nick string
	c    *Conn
	// joinDone gets the answer to the join, once: nil for the
	// self-presence (status 110), or the error presence.
	joinDone chan error
	created  atomic.Bool // the self-presence carried status 201
	iqDone   chan error  // the answer to the configuration IQ
	others   atomic.Int64
	got      atomic.Uint64 // distinct room messages received

	// sender side: credits come back as the room reflects the sender's
	// own messages (XEP-0045 §7.4)
	window

	// owned by the reader until it returns
	joined  bool
	seen    []uint64     // bit per occupant whose presence arrived
	tr      []SeqTracker // per sender
	hist    Histogram
	bad     uint64 // messages with a body that was not ours
	bounced uint64
}

func runMUC(ctx context.Context, g *gen) (*Result, error) {
	cfg := g.cfg
	n, ns := cfg.Occupants, min(cfg.Senders, cfg.Occupants)
	res := &Result{Occupants: n, Senders: ns, Window: cfg.Window}
	if n < 2 {
		return res, fmt.Errorf("a room needs at least 2 occupants, have %d", n)
	}
	room := cfg.Room
	occ := make([]*mucOccupant, n)
	for i := range occ {
		occ[i] = &mucOccupant{idx: i, nick: "o" + strconv.Itoa(i), joinDone: make(chan error, 1), iqDone: make(chan error, 1),
			window: newWindow(), seen: make([]uint64, (n+63)/64), tr: make([]SeqTracker, ns)}
	}
	defer func() {
		for _, o := range occ {
			if o.c != nil {
				o.c.Close()
			}
		}
	}()
	// Users are reused (another resource, another nickname) when there
	// are fewer than occupants.
	if err := g.loginAll(ctx, n, func(i int) (int, string) { return i%cfg.Users + 1, "muc" }, func(i int, c *Conn) {
		occ[i].c = c
	}); err != nil {
		return res, err
	}
	g.progress("%s: %d occupants logged in", cfg.Server, n)

	h := newHalt()
	var readers sync.WaitGroup
	prefix := room + "/"
	for _, o := range occ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			h.Fail(fmt.Errorf("occupant %d (%s): %w", o.idx, o.c.JID, o.read(prefix)))
		}()
	}
	ctxStop := context.AfterFunc(ctx, func() { h.Fail(fmt.Errorf("run bound: %w", ctx.Err())) })
	defer ctxStop()
	// shutdown closes every session and waits for the readers; after it,
	// what they owned may be read.
	shutdown := sync.OnceFunc(func() {
		h.closing.Store(true)
		for _, o := range occ {
			o.c.Close()
		}
		readers.Wait()
	})
	// result finishes with the first error and what was measured so far.
	result := func(extra ...error) (*Result, error) {
		shutdown()
		err := h.Err()
		return res, errors.Join(append([]error{err}, extra...)...)
	}

	// The first occupant creates the room; a new room is locked until
	// its owner configures it, and an empty submitted form accepts the
	// defaults: an instant room (XEP-0045 §10.1.2).
	t0 := time.Now()
	creator := occ[0]
	if err := creator.join(room, h.stop, cfg.Timeout); err != nil {
		h.Fail(fmt.Errorf("occupant 0 (%s): join %s: %w", creator.c.JID, room, err))
		return result()
	}
	if creator.created.Load() {
		if err := creator.configure(room, h.stop, cfg.Timeout); err != nil {
			h.Fail(fmt.Errorf("occupant 0 (%s): configure %s: %w", creator.c.JID, room, err))
			return result()
		}
	}
	// The others join Concurrency at a time, until one fails.
	each(ctx, cfg.Concurrency, n-1, func(i int) {
		o := occ[i+1]
		if h.Err() != nil {
			return
		}
		if err := o.join(room, h.stop, cfg.Timeout); err != nil {
			h.Fail(fmt.Errorf("occupant %d (%s): join %s: %w", o.idx, o.c.JID, room, err))
		}
	})
	if h.Err() != nil {
		return result()
	}
	res.JoinSecs = time.Since(t0).Seconds()
	g.progress("%s: %d occupants joined %s in %.1f s", cfg.Server, n, room, res.JoinSecs)
	// Let the join presence settle before measuring: every occupant is
	// to see every other one's presence.
	settleErr := settle(occ, h.stop, cfg.Timeout)
	if h.Err() != nil {
		return result()
	}

	deadline := time.Now().Add(cfg.Duration + time.Minute + drainBound)
	for _, o := range occ {
		o.c.SetDeadline(deadline)
	}
	m := g.startMeter(ctx, cfg.Duration)
	senders := make([]sender, ns)
	for i, o := range occ[:ns] {
		senders[i] = sender{&o.window, o.c, o.idx, []byte("<message type='groupchat' to='" + room + "'><body>" + strconv.Itoa(o.idx) + " ")}
	}
	g.sendAll(h, senders, 0)
	// Drain: every occupant is to get every message; what has not arrived
	// by the bound counts as lost.
	var sent uint64
	fewest, most := ^uint64(0), uint64(0)
	for _, o := range occ[:ns] {
		k := o.sent.Load()
		sent += k
		fewest, most = min(fewest, k), max(most, k)
	}
	// A server that serves its senders unfairly shows here first.
	res.SenderFewest, res.SenderMost = fewest, most
	g.progress("%s: %d messages sent, between %d and %d by each sender", cfg.Server, sent, fewest, most)
	want := sent * uint64(n)
	h.drain(func() bool {
		var got uint64
		for _, o := range occ {
			got += o.got.Load()
		}
		return got >= want
	})
	shutdown()

	var hist Histogram
	var bounced, bad uint64
	res.Sent = sent
	for _, o := range occ {
		for s, sd := range occ[:ns] {
			sent := sd.sent.Load()
			tr := &o.tr[s]
			res.Delivered += tr.Unique
			res.Lost += tr.Lost(sent)
			res.Duplicated += tr.Duplicates
			res.OutOfOrder += tr.OutOfOrder
			bad += tr.Unexpected(sent)
		}
		bounced += o.bounced
		bad += o.bad
		hist.Merge(&o.hist)
	}
	m.stop(ctx, res, float64(res.Delivered))
	res.DeliveriesPerSec = float64(res.Delivered) / res.Elapsed
	res.MsgsPerSec = float64(res.Sent) / res.Elapsed
	if res.Sent > 0 {
		res.ServerCPUPerMsg = res.ServerCPU * 1e6 / float64(res.Sent)
	}
	res.LatP50, res.LatP99, res.LatP999, res.LatMax = ms(hist.Quantile(0.5)), ms(hist.Quantile(0.99)), ms(hist.Quantile(0.999)), ms(hist.Max())
	var extra []error
	if settleErr != nil {
		extra = append(extra, settleErr)
	}
	if bounced > 0 {
		extra = append(extra, fmt.Errorf("the server bounced %d messages", bounced))
	}
	if bad > 0 {
		extra = append(extra, fmt.Errorf("%d messages arrived that were never sent", bad))
	}
	return result(extra...)
}

// settle waits until every occupant has seen the presence of every other
// one, up to timeout.
func settle(occ []*mucOccupant, stop <-chan struct{}, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	want := int64(len(occ) - 1)
	for {
		short, fewest := 0, want
		for _, o := range occ {
			if k := o.others.Load(); k < want {
				short++
				fewest = min(fewest, k)
			}
		}
		if short == 0 {
			return nil
		}
		if !time.Now().Before(end) {
			return fmt.Errorf("after %v, %d occupants had not seen every other occupant's presence (the fewest: %d of %d)", timeout, short, fewest, want)
		}
		select {
		case <-stop:
			return nil // the run's error says why
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// join sends the occupant's presence to room/nick, asking for no history
// (XEP-0045 §7.2.14), and waits for the self-presence.
func (o *mucOccupant) join(room string, stop <-chan struct{}, timeout time.Duration) error {
	if err := o.c.Write([]byte("<presence to='" + room + "/" + o.nick + "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>")); err != nil {
		return err
	}
	return await(o.joinDone, stop, timeout, "self-presence")
}

// configure submits the empty form of an instant room (§10.1.2).
func (o *mucOccupant) configure(room string, stop <-chan struct{}, timeout time.Duration) error {
	if err := o.c.Write([]byte("<iq type='set' id='" + mucConfigID + "' to='" + room + "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>")); err != nil {
		return err
	}
	return await(o.iqDone, stop, timeout, "answer")
}

func await(ch <-chan error, stop <-chan struct{}, timeout time.Duration, what string) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-ch:
		return err
	case <-stop:
		return errStopped
	case <-t.C:
		return fmt.Errorf("no %s within %v", what, timeout)
	}
}

// read reads the occupant's stream until it fails or is closed: the
// answers to the join and the configuration, the others' presence, and
// the room's messages. prefix is the room's JID and a slash.
func (o *mucOccupant) read(prefix string) error {
	for {
		u, kind, err := o.c.Next()
		if err != nil {
			return err
		}
		if kind != unitElement || len(u) < 3 {
			continue
		}
		switch u[1] {
		case 'm':
			if localName(u) == "message" {
				o.message(u, prefix)
			}
		case 'p':
			if localName(u) == "presence" {
				o.presence(u, prefix)
			}
		case 'i':
			if localName(u) == "iq" && attr(u, "id") == mucConfigID {
				var err error
				if attr(u, "type") != "result" {
					err = fmt.Errorf("refused: %.300s", u)
				}
				select {
				case o.iqDone <- err:
				default:
				}
			}
		}
	}
}

// message records a room message whose body is "sender seq timestamp".
func (o *mucOccupant) message(u []byte, prefix string) {
	body := childText(u, "body")
	if body == nil {
		return // the subject, or a notice without a body
	}
	if attr(u, "type") == "error" {
		o.bounced++
		return
	}
	now := time.Since(base)
	s, seq, ts, ok := parseMUCBody(body)
	if !ok || s >= uint64(len(o.tr)) {
		if strings.HasPrefix(attr(u, "from"), prefix) {
			o.bad++ // from an occupant: not what the senders wrote
		}
		return
	}
	tr := &o.tr[s]
	before := tr.Unique
	tr.Add(seq)
	if tr.Unique == before {
		return // a duplicate
	}
	o.got.Add(1)
	o.hist.Record(now - time.Duration(ts))
	if int(s) == o.idx {
		o.credit()
	}
}

// presence notes the self-presence (the answer to the join) and which
// other occupants' presence arrived.
func (o *mucOccupant) presence(u []byte, prefix string) {
	from := attr(u, "from")
	nick, ok := strings.CutPrefix(from, prefix)
	if !ok {
		return
	}
	typ := attr(u, "type")
	if nick == o.nick {
		if o.joined {
			return
		}
		switch {
		case typ == "error":
			o.joined = true
			o.joinDone <- fmt.Errorf("refused: %.300s", u)
		case typ == "" && hasStatus(u, "110"):
			// §7.2.3: status 110 marks the self-presence, the last of
			// the join's presence; 201: a new room (§10.1.1).
			o.joined = true
			o.created.Store(hasStatus(u, "201"))
			o.joinDone <- nil
		}
		return
	}
	if typ != "" || len(nick) < 2 || nick[0] != 'o' {
		return
	}
	i, err := strconv.Atoi(nick[1:])
	if err != nil || i < 0 || i/64 >= len(o.seen) {
		return
	}
	if w, b := i/64, uint64(1)<<(i%64); o.seen[w]&b == 0 {
		o.seen[w] |= b
		o.others.Add(1)
	}
}

// hasStatus says whether a presence carries <status code='code'/>.
func hasStatus(u []byte, code string) bool {
	return bytes.Contains(u, []byte("code='"+code+"'")) || bytes.Contains(u, []byte(`code="`+code+`"`))
}

// parseMUCBody parses "sender seq timestamp".
func parseMUCBody(b []byte) (sender, seq uint64, ts int64, ok bool) {
	sp1 := bytes.IndexByte(b, ' ')
	if sp1 < 0 {
		return 0, 0, 0, false
	}
	sp2 := bytes.IndexByte(b[sp1+1:], ' ')
	if sp2 < 0 {
		return 0, 0, 0, false
	}
	sp2 += sp1 + 1
	s, err1 := strconv.ParseUint(string(b[:sp1]), 10, 32)
	q, err2 := strconv.ParseUint(string(b[sp1+1:sp2]), 10, 64)
	t, err3 := strconv.ParseInt(string(b[sp2+1:]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, false
	}
	return s, q, t, true
}
