package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"

	"parley/internal/store"
)

// Kinds of Problem.
const (
	ProblemChanged   = "changed"   // the record's content (or its hash) is not what was written
	ProblemRemoved   = "removed"   // the record is missing
	ProblemInserted  = "inserted"  // the record was not written by the log
	ProblemReordered = "reordered" // the record is there, at another place
	ProblemTruncated = "truncated" // records at the end are missing (a checkpoint names a later one)
	ProblemForged    = "forged"    // a checkpoint's signature does not verify
	ProblemRewritten = "rewritten" // the chain holds, but a checkpoint signed a different record
)

// Problem is the first place where the log is not what the Log wrote.
type Problem struct {
	Kind   string
	Seq    int64 // the first record concerned, by the seq it was written with
	Detail string
}

func (p Problem) String() string {
	return fmt.Sprintf("record %d %s: %s", p.Seq, p.Kind, p.Detail)
}

// Report is what Verify found.
type Report struct {
	Records     int64 // rows read
	Last        int64 // seq of the last row
	Checkpoints int   // checkpoints whose signature and record both verify
	First       *Problem
	// Breaks counts the places where the chain broke; the first problem
	// accounts for one.
	Breaks int
	// HoldsFrom is the seq where the last unbroken stretch of the chain
	// starts (1 when nothing is wrong; 0 when nothing holds at the end).
	HoldsFrom int64
	// Signed is the written seq of the last checkpoint that verified:
	// records after it are covered by the chain alone (a tail cut off
	// there would not be seen, except by a SIEM's copy).
	Signed int64
	// AfterFirst counts the records checked after the first problem.
	AfterFirst int64
	// Shift is how far stored seqs differ from those written (records
	// inserted before, or removed with later ones renumbered).
	Shift int64
}

// OK reports whether the whole log is as written.
func (r Report) OK() bool { return r.First == nil }

// RestHolds reports whether everything after the first problem holds.
func (r Report) RestHolds() bool {
	return r.Breaks <= 1 && (r.AfterFirst == 0 || r.HoldsFrom > 0)
}

func (r Report) String() string {
	var b strings.Builder
	if r.OK() {
		fmt.Fprintf(&b, "audit log intact: %d records (last %d), %d checkpoints verified", r.Records, r.Last, r.Checkpoints)
		if n := r.Last + r.Shift - r.Signed; n > 0 {
			fmt.Fprintf(&b, "; the last %d records are not yet under a signed checkpoint (one is written every N records, every interval, and at shutdown)", n)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "audit log TAMPERED: first problem: %s\n", r.First)
	switch {
	case r.RestHolds() && r.HoldsFrom > 0:
		fmt.Fprintf(&b, "the rest holds: records %d..%d chain correctly", r.HoldsFrom, r.Last)
		if r.Shift != 0 {
			fmt.Fprintf(&b, " (stored seqs are off by %d from those written)", -r.Shift)
		}
		fmt.Fprintf(&b, "; %d checkpoints verified", r.Checkpoints)
	case r.RestHolds():
		b.WriteString("nothing after it to check")
	case r.HoldsFrom == 0 && r.Breaks <= 1:
		b.WriteString("the rest does not hold: the records after it cannot be trusted")
	default:
		fmt.Fprintf(&b, "the rest does not hold: %d breaks in all", r.Breaks)
		if r.HoldsFrom > 0 {
			fmt.Fprintf(&b, "; records %d..%d chain correctly", r.HoldsFrom, r.Last)
		}
	}
	return b.String()
}

// window is how many rows after a break Verify reads to tell what
// happened; a record moved farther than this is reported as changed.
const window = 1024

// verifier walks the rows in stored seq order.
type verifier struct {
	ctx  context.Context
	st   store.Audit
	pub  ed25519.PublicKey
	rows []Record // read ahead; rows[0] is the next to check
	done bool     // no more rows in the store
	read int64    // last seq read from the store

	cps     map[int64]store.AuditCheckpoint
	rep     Report
	prevSeq int64  // stored seq of the last row checked
	prev    []byte // the hash the next row must carry as Prev
	lenient bool   // accept the next row's Prev and seq (after a break)
	// recent are the last rows accepted (written seq and hash), newest
	// last, so that a record that names an earlier one as its predecessor
	// shows the rows between as inserted.
	recent []seqHash
}

type seqHash struct {
	seq  int64
	hash []byte
}

// Verify walks the whole chain and its checkpoints and reports the first
// record that was changed, removed, inserted or reordered, and whether the
// rest holds. An error means the store could not be read.
func Verify(ctx context.Context, st store.Audit, pub ed25519.PublicKey) (Report, error) {
	v := &verifier{ctx: ctx, st: st, pub: pub, prev: make([]byte, 32), cps: map[int64]store.AuditCheckpoint{}}
	v.rep.HoldsFrom = 1
	for after := int64(0); ; {
		cps, err := st.AuditCheckpoints(ctx, after, 1000)
		if err != nil {
			return Report{}, err
		}
		if len(cps) == 0 {
			break
		}
		for _, c := range cps {
			v.cps[c.Seq] = c
		}
		after = cps[len(cps)-1].Seq
	}
	for {
		if err := v.fillTo(1); err != nil {
			return Report{}, err
		}
		if len(v.rows) == 0 {
			break
		}
		if err := v.step(); err != nil {
			return Report{}, err
		}
	}
	v.finish()
	return v.rep, nil
}

// fillTo reads ahead until n rows are buffered or the store has no more.
func (v *verifier) fillTo(n int) error {
	for len(v.rows) < n && !v.done {
		recs, err := v.st.AuditRecords(v.ctx, store.AuditQuery{After: v.read, Limit: 1000})
		if err != nil {
			return fmt.Errorf("audit: verify: %w", err)
		}
		if len(recs) == 0 {
			v.done = true
		}
		for _, r := range recs {
			v.rows = append(v.rows, fromStore(r))
			v.read = r.Seq
		}
	}
	return nil
}

// intact reports whether r's hash covers its content when written as seq.
func intact(r Record, seq int64) bool {
	r.Seq = seq
	return bytes.Equal(r.ComputeHash(), r.Hash)
}

func (v *verifier) step() error {
	r := v.rows[0]
	self := intact(r, r.Seq+v.rep.Shift)
	link := v.lenient || bytes.Equal(r.Prev, v.prev)
	seq := v.lenient || r.Seq == v.prevSeq+1
	if self && link && seq {
		if v.lenient {
			v.rep.HoldsFrom = r.Seq
			v.lenient = false
		}
		v.accept(r)
		v.rows = v.rows[1:]
		return nil
	}
	v.rep.Breaks++
	v.rep.HoldsFrom = 0
	if v.rep.First != nil {
		// Only the first problem is named; later breaks are counted and
		// the walk goes on from the next row that holds by itself.
		v.rows = v.rows[1:]
		v.prevSeq, v.prev, v.lenient = r.Seq, r.Hash, !self
		if self {
			v.rep.HoldsFrom = r.Seq
			v.accept(r)
		}
		return nil
	}
	if err := v.fillTo(window); err != nil {
		return err
	}
	v.classify()
	return nil
}

// accept records r as checked and good, and checks a checkpoint at it.
func (v *verifier) accept(r Record) {
	v.rep.Records++
	v.rep.Last = r.Seq
	if v.rep.First != nil {
		v.rep.AfterFirst++
	}
	v.prevSeq, v.prev = r.Seq, r.Hash
	written := r.Seq + v.rep.Shift
	if len(v.recent) == 64 {
		v.recent = v.recent[1:]
	}
	v.recent = append(v.recent, seqHash{written, r.Hash})
	c, ok := v.cps[written]
	if !ok {
		return
	}
	delete(v.cps, written)
	switch {
	case !ed25519.Verify(v.pub, checkpointMessage(c.Seq, c.Hash), c.Signature):
		v.problem(Problem{ProblemForged, c.Seq, "the checkpoint's signature does not verify with the audit key"}, false)
	case !bytes.Equal(c.Hash, r.Hash):
		v.problem(Problem{ProblemRewritten, c.Seq, "the chain holds but checkpoint " + fmt.Sprint(c.Seq) +
			" signed a different record: a record at or before it was changed and every later hash recomputed"}, true)
	default:
		v.rep.Checkpoints++
		v.rep.Signed = c.Seq
	}
}

// problem records a break found outside the row walk (checkpoints);
// broken says the records from here on cannot be trusted.
func (v *verifier) problem(p Problem, broken bool) {
	v.rep.Breaks++
	if v.rep.First == nil {
		v.rep.First = &p
	}
	if broken {
		v.rep.HoldsFrom = 0
	}
}

// classify names the first problem at rows[0], whose predecessor was the
// last good row (seq prevSeq, hash prev), and moves the walk past the
// damaged rows.
func (v *verifier) classify() {
	w := v.rows
	e := v.prevSeq + 1 + v.rep.Shift // the seq the next record was written with
	r := w[0]
	succ := -1 // the row that names the last good one as its predecessor
	for i, x := range w {
		if bytes.Equal(x.Prev, v.prev) {
			succ = i
			break
		}
	}
	referenced := func(h []byte) bool {
		for _, x := range w {
			if bytes.Equal(x.Prev, h) {
				return true
			}
		}
		return false
	}
	first := func(kind string, seq int64, detail string) {
		v.rep.First = &Problem{kind, seq, detail}
	}
	switch {
	case succ == 0:
		// It follows the last good record but its content is not what
		// was hashed, or its seq was changed.
		first(ProblemChanged, e, "its content does not match its hash")
		v.skip(1)
	case succ > 0 && referenced(r.Hash):
		first(ProblemReordered, e, fmt.Sprintf("stored seq %d holds another record of the chain; record %d was written next and is at stored seq %d",
			r.Seq, e, w[succ].Seq))
		v.skip(succ + 1)
	case succ > 0:
		first(ProblemInserted, r.Seq+v.rep.Shift, fmt.Sprintf("%d record(s) at stored seq %d..%d were not written by the log",
			succ, r.Seq, w[succ-1].Seq))
		// The walk resumes in the chain at the record written next,
		// whose stored seq is now higher than the one it was written with.
		v.rows = w[succ:]
		v.rep.Shift = e - w[succ].Seq
		v.prevSeq = w[succ].Seq - 1
		v.rep.HoldsFrom = w[succ].Seq
	case v.followsEarlier(r):
		// Done by followsEarlier.
	case r.Seq+v.rep.Shift > e:
		if n := r.Seq + v.rep.Shift - e; n == 1 {
			first(ProblemRemoved, e, "it is missing")
		} else {
			first(ProblemRemoved, e, fmt.Sprintf("records %d..%d are missing", e, e+n-1))
		}
		v.lenient = true
	default:
		if k := renumbered(r, r.Seq+v.rep.Shift); k > 0 {
			first(ProblemRemoved, e, fmt.Sprintf("%d record(s) missing from %d, later records renumbered", k, e))
			v.rep.Shift += k
			v.lenient = true
			return
		}
		if intact(r, r.Seq+v.rep.Shift) && len(w) > 1 && bytes.Equal(w[1].Prev, r.Hash) {
			first(ProblemChanged, e-1, fmt.Sprintf("record %d names a different predecessor: record %d was changed and its hash recomputed", e, e-1))
			v.lenient = true
			return
		}
		first(ProblemChanged, e, "it does not follow the record before it")
		v.skip(1)
	}
}

// followsEarlier handles a row that names an earlier accepted row than
// the last as its predecessor: the rows accepted in between were inserted
// with hashes that chain (the forger recomputed them), and the stored
// seqs after them are shifted.
func (v *verifier) followsEarlier(r Record) bool {
	for j := len(v.recent) - 2; j >= 0; j-- {
		p := v.recent[j]
		if !bytes.Equal(r.Prev, p.hash) || !intact(r, p.seq+1) {
			continue
		}
		n := int64(len(v.recent) - 1 - j)
		v.rep.First = &Problem{ProblemInserted, p.seq + 1, fmt.Sprintf("%d record(s) after record %d were not written by the log (their hashes were made to chain)", n, p.seq)}
		v.rep.Shift = p.seq + 1 - r.Seq
		v.prev, v.prevSeq = r.Prev, r.Seq-1
		v.rep.HoldsFrom = r.Seq
		return true
	}
	return false
}

// skip passes over n damaged rows; the walk resumes leniently after them.
func (v *verifier) skip(n int) {
	last := v.rows[n-1]
	v.rows = v.rows[n:]
	v.prevSeq, v.prev, v.lenient = last.Seq, last.Hash, true
	if len(v.rows) > 0 && bytes.Equal(v.rows[0].Prev, last.Hash) {
		v.lenient = false
		v.rep.HoldsFrom = v.rows[0].Seq
	}
}

// renumbered returns k > 0 if r was written as seq+k (k records before it
// removed and the rest renumbered), looking up to 64 back.
func renumbered(r Record, seq int64) int64 {
	for k := int64(1); k <= 64; k++ {
		if intact(r, seq+k) {
			return k
		}
	}
	return 0
}

// finish checks what the walk could not: checkpoints past the end.
func (v *verifier) finish() {
	last := v.rep.Last + v.rep.Shift
	var beyond []int64
	for s := range v.cps {
		if s > last {
			beyond = append(beyond, s)
		}
	}
	if len(beyond) > 0 {
		max := beyond[0]
		for _, s := range beyond {
			max = maxInt(max, s)
		}
		v.problem(Problem{ProblemTruncated, last + 1, fmt.Sprintf("checkpoint %d names a record the log no longer has", max)}, false)
	}
	if v.rep.First == nil {
		v.rep.HoldsFrom = 1
	}
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
