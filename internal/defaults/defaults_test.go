package defaults

import (
	"strconv"
	"testing"
	"time"
)

func TestPositive(t *testing.T) {
	for i, tc := range []struct{ v, want time.Duration }{
		0: {0, time.Second},
		1: {-1, time.Second},
		2: {1, 1},
		3: {time.Minute, time.Minute},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			v := tc.v
			Positive(&v, time.Second)
			if v != tc.want {
				t.Errorf("Positive(%v) = %v, want %v", tc.v, v, tc.want)
			}
		})
	}
}
