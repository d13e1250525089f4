package control

import (
	"strconv"
	"testing"
	"time"
)

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		0: {in: "", want: 0},
		1: {in: "0", want: 0},
		2: {in: "30d", want: 30 * 24 * time.Hour},
		3: {in: "12h", want: 12 * time.Hour},
		4: {in: "-1d", bad: true},
		5: {in: "0d", bad: true},
		6: {in: "-5m", bad: true},
		7: {in: "soon", bad: true},
		8: {in: "99999d", bad: true},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := ParseLifetime(tc.in)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("ParseLifetime(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}
