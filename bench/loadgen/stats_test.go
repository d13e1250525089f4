package loadgen

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		0: {nil, 0.5, 0},
		1: {[]time.Duration{5 * time.Microsecond}, 0.99, 5 * time.Microsecond},
		2: {[]time.Duration{1, 2, 3, 4}, 0.5, 0}, // sub-microsecond values read as 0
		3: {us(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Microsecond},
		4: {us(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Microsecond},
		5: {us(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Microsecond},
		6: {us(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 1, 10 * time.Microsecond},
		7: {[]time.Duration{-time.Second, 3 * time.Microsecond}, 0.5, 0}, // negative is 0
		8: {us(100, 200, 300), 1, 300 * time.Microsecond},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var h Histogram
			for _, v := range tc.values {
				h.Record(v)
			}
			if got := h.Quantile(tc.q); got != tc.want {
				t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func us(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Microsecond
	}
	return out
}

// The histogram agrees with exact percentiles of a sorted sample to within
// its bucket width (1/64 of the value), from microseconds to minutes.
func TestHistogramAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h, h1, h2 Histogram
	vals := make([]time.Duration, 100000)
	for i := range vals {
		// log-uniform from 1µs to ~100s
		v := time.Duration(float64(time.Microsecond) * pow10(r.Float64()*8))
		vals[i] = v
		h.Record(v)
		if i%2 == 0 {
			h1.Record(v)
		} else {
			h2.Record(v)
		}
	}
	h1.Merge(&h2)
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := vals[int(q*float64(len(vals)))-1]
		for _, hh := range []*Histogram{&h, &h1} {
			got := hh.Quantile(q)
			if got > exact || float64(exact-got) > float64(exact)/64+float64(time.Microsecond) {
				t.Errorf("q%v = %v, exact %v", q, got, exact)
			}
		}
	}
	if h.Count() != 100000 || h1.Count() != 100000 || h.Max() != vals[len(vals)-1] {
		t.Errorf("count %d/%d max %v", h.Count(), h1.Count(), h.Max())
	}
}

func pow10(x float64) float64 {
	v := 1.0
	for ; x >= 1; x-- {
		v *= 10
	}
	// the fractional part, by a few multiplications of 10^(1/8)
	for ; x > 0.125; x -= 0.125 {
		v *= 1.333521432163324
	}
	return v
}

func TestBucketBounds(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 1<<40 + 12345, 1<<63 + 1} {
		b := bucket(v)
		lo := lowerBound(b)
		if lo > v || (b+1 < 64<<subBits && lowerBound(b+1) <= v) {
			t.Errorf("value %d: bucket %d [%d, %d)", v, b, lo, lowerBound(b+1))
		}
	}
}

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		arrivals                  []uint64
		sent                      uint64
		lost, dup, ooo, unexpects uint64
	}{
		0: {nil, 0, 0, 0, 0, 0},
		1: {nil, 5, 5, 0, 0, 0},
		2: {[]uint64{0, 1, 2, 3, 4}, 5, 0, 0, 0, 0},
		3: {[]uint64{0, 1, 3, 4}, 5, 1, 0, 0, 0},               // 2 lost
		4: {[]uint64{0, 1, 1, 2}, 3, 0, 1, 0, 0},               // 1 duplicated
		5: {[]uint64{0, 2, 1, 3}, 4, 0, 0, 1, 0},               // 1 late
		6: {[]uint64{0, 1, 2, 700}, 3, 0, 0, 0, 1},             // 700 was never sent
		7: {[]uint64{63, 64, 65, 127, 128}, 129, 124, 0, 0, 0}, // word boundaries
		8: {[]uint64{5, 5, 5, 4}, 6, 4, 2, 1, 0},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var tr SeqTracker
			for _, a := range tc.arrivals {
				tr.Add(a)
			}
			if got := tr.Lost(tc.sent); got != tc.lost {
				t.Errorf("lost %d, want %d", got, tc.lost)
			}
			if tr.Duplicates != tc.dup {
				t.Errorf("duplicates %d, want %d", tr.Duplicates, tc.dup)
			}
			if tr.OutOfOrder != tc.ooo {
				t.Errorf("out of order %d, want %d", tr.OutOfOrder, tc.ooo)
			}
			if got := tr.Unexpected(tc.sent); got != tc.unexpects {
				t.Errorf("unexpected %d, want %d", got, tc.unexpects)
			}
		})
	}
}
