package store

import (
	"math"
	"time"
)

// The times int64 Unix nanoseconds can hold: 1677-09-21 to 2262-04-11.
var minNanos, maxNanos = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

// UnixNanos is t in Unix nanoseconds for a column that stores times so
// (SQLite's times, both backends' audit records). UnixNano wraps around
// outside its range (2300 became 1715, so a query from 2300 on returned
// everything); UnixNanos saturates to the ends instead. That keeps the
// order of any two times, so a bound such as 9999-12-31 still lies after
// every stored time (clock readings, inside the range), and only a stored
// time outside the range would come back as the range's end.
func UnixNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}
