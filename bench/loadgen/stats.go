package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets: values below 2^subBits
// microseconds are exact, larger ones fall in buckets 1/2^subBits of their
// power of two wide (under 1.6 % error). Recording allocates nothing and
// takes no lock: each goroutine owns a Histogram and Merge joins them at
// the end.
type Histogram struct {
	counts [64 << subBits]uint64
	n      uint64
	max    time.Duration
}

const subBits = 6

// bucket maps a value in microseconds to its bucket index.
func bucket(us uint64) int {
	if us < 1<<subBits {
		return int(us)
	}
	exp := bits.Len64(us) - 1 // us is in [2^exp, 2^(exp+1))
	shift := exp - subBits
	return (shift+1)<<subBits + int(us>>shift) - 1<<subBits
}

// lowerBound is the smallest value in microseconds that falls in bucket i.
func lowerBound(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	shift := i>>subBits - 1
	return (uint64(i&(1<<subBits-1)) + 1<<subBits) << shift
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d/time.Microsecond))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration { return h.max }

// Merge adds the values of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Quantile returns the value at quantile q (0 < q <= 1): the lower bound of
// the bucket holding the ceil(q*n)-th smallest value, capped at Max. It is
// 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(lowerBound(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

// SeqTracker counts what a receiver got of the sequence numbers 0, 1, 2, ...
// that its sender sent: unique arrivals, duplicates and arrivals out of
// order. Lost is what was sent and never arrived.
type SeqTracker struct {
	seen       []uint64 // bit per sequence number
	next       uint64   // the highest sequence number seen so far, plus one
	Unique     uint64
	Duplicates uint64
	OutOfOrder uint64
}

// Add records the arrival of seq.
func (t *SeqTracker) Add(seq uint64) {
	w, b := seq/64, seq%64
	if w >= uint64(len(t.seen)) {
		t.seen = append(t.seen, make([]uint64, int(w)+1-len(t.seen)+len(t.seen)/2)...)
	}
	if t.seen[w]&(1<<b) != 0 {
		t.Duplicates++
		return
	}
	t.seen[w] |= 1 << b
	t.Unique++
	if seq+1 < t.next {
		t.OutOfOrder++
	}
	t.next = max(t.next, seq+1)
}

// Lost is how many of the sent messages 0..sent-1 never arrived.
func (t *SeqTracker) Lost(sent uint64) uint64 {
	var got uint64
	for w := uint64(0); w*64 < sent && w < uint64(len(t.seen)); w++ {
		word := t.seen[w]
		if rest := sent - w*64; rest < 64 {
			word &= 1<<rest - 1
		}
		got += uint64(bits.OnesCount64(word))
	}
	return sent - got
}

// Unexpected is how many arrivals carried a sequence number never sent
// (a corrupted or foreign message).
func (t *SeqTracker) Unexpected(sent uint64) uint64 {
	return t.Unique - (sent - t.Lost(sent))
}
