package config

import (
	"strconv"
	"testing"
)

func TestValidateComponents(t *testing.T) {
	const secret = "sixteen chars at least"
	tests := []struct {
		c      []Component
		listen string
		want   []string
	}{
		0: {c: []Component{{Domain: "gateway.localhost", Secret: secret}}},
		1: {c: []Component{{Domain: "gateway.localhost", Secret: "short"}}, want: []string{"component[0]: secret must be at least 16 characters"}},
		2: {c: []Component{{Domain: "Gateway.localhost", Secret: secret}}, want: []string{`component[0]: domain "Gateway.localhost" is not a domain in canonical form`}},
		3: {c: []Component{{Domain: "localhost", Secret: secret}}, want: []string{"component[0]: domain is the server's own domain"}},
		4: {c: []Component{{Domain: "conference.localhost", Secret: secret}}, want: []string{`component[0]: domain "conference.localhost" is served by parley itself`}},
		5: {c: []Component{{Domain: "g.localhost", Secret: secret}, {Domain: "g.localhost", Secret: secret}}, want: []string{`component[1]: domain "g.localhost" is used twice`}},
		6: {c: []Component{{Domain: "gateway.localhost", Secret: secret}}, listen: ":5347", want: []string{`listen.component: ":5347" is not a loopback address`}},
		7: {c: nil, listen: ":5347"}, // unused
		8: {c: []Component{{Domain: "user@gateway.localhost", Secret: secret}}, want: []string{"is not a domain"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := Default()
			c.Components = tc.c
			if tc.listen != "" {
				c.Listen.Component = tc.listen
			}
			wantProblems(t, c.Validate(), tc.want)
		})
	}
}
