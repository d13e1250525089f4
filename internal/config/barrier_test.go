package config

import (
	"strconv"
	"testing"
)

func TestValidateBarriers(t *testing.T) {
	tests := []struct {
		b    []Barrier
		want []string
	}{
		0: {b: []Barrier{{Name: "w", A: []string{"alice@localhost"}, B: []string{"bob@localhost", "carol@localhost"}}}},
		1: {b: []Barrier{{A: []string{"alice@localhost"}, B: []string{"bob@localhost"}}}, want: []string{"barrier[0]: name must not be empty"}},
		2: {b: []Barrier{{Name: "w", A: []string{"alice@localhost"}, B: []string{"b@localhost"}}, {Name: "w", A: []string{"c@localhost"}, B: []string{"d@localhost"}}},
			want: []string{`barrier[1]: name "w" is used twice`}},
		3: {b: []Barrier{{Name: "w", A: []string{"alice@localhost"}}}, want: []string{"barrier[0]: a and b must both name accounts"}},
		4: {b: []Barrier{{Name: "w", A: []string{"alice@localhost/desk", "x@other.example", "localhost"}, B: []string{"bob@localhost"}}},
			want: []string{`"alice@localhost/desk" is not the bare JID`, `"x@other.example" is not the bare JID`, `"localhost" is not the bare JID`}},
		5: {b: []Barrier{{Name: "w", A: []string{"alice@localhost"}, B: []string{"alice@localhost"}}}, want: []string{"alice@localhost is on both sides"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := Default()
			c.Barriers = tc.b
			wantProblems(t, c.Validate(), tc.want)
		})
	}
}
