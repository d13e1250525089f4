package config

import (
	"testing"
	"time"
)

func TestValidateS2S(t *testing.T) {
	checkValidate(t, []validateCase{
		0: {func(c *Config) {}, nil},
		1: {func(c *Config) { c.S2S.Mode = "allowlist"; c.S2S.Allow = []string{"example.org"} }, nil},
		2: {func(c *Config) { c.S2S.Mode = "sometimes" }, []string{`s2s.mode: "sometimes" is not off, allowlist or open`}},
		3: {func(c *Config) { c.Listen.S2S = ":5222" }, []string{`listen.s2s: ":5222" is already used by listen.c2s`}},
		4: {func(c *Config) { c.S2S.Routes = map[string]string{"example.org": "10.0.0.5"} }, []string{`s2s.routes.example.org: "10.0.0.5" is not a host:port`}},
		5: {func(c *Config) { c.S2S.Deny = []string{"user@example.org"} }, []string{`s2s.deny: "user@example.org" is not a domain`}},
		6: {func(c *Config) { c.S2S.MaxQueue = -1 }, []string{"s2s: max_queue"}},
		7: {func(c *Config) {
			c.Listen.S2S = "127.0.0.1:0"
			c.S2S.Routes = map[string]string{"b.test": "127.0.0.1:5269"}
		}, nil},
		8: {func(c *Config) { c.S2S.PingInterval.Duration = -time.Second }, []string{"s2s: max_queue"}},
		9: {func(c *Config) { c.S2S.PingInterval.Duration = time.Millisecond }, []string{"s2s.ping_interval: 1ms is below 1s"}},
		10: {func(c *Config) {
			c.S2S.PingInterval.Duration = time.Minute
			c.S2S.PingTimeout.Duration = 10 * time.Second
		}, nil},
		11: {func(c *Config) { c.S2S.Routes = map[string]string{"example.org": "tls://10.0.0.5:5270"} }, nil},
		12: {func(c *Config) { c.S2S.Routes = map[string]string{"example.org": "tls://10.0.0.5"} }, []string{`s2s.routes.example.org: "tls://10.0.0.5" is not a host:port`}},
		13: {func(c *Config) { c.Listen.S2STLS = ":5269" }, []string{`listen.s2s_tls: ":5269" is already used by listen.s2s`}},
		14: {func(c *Config) { c.Listen.S2STLS = ":5223" }, []string{`listen.s2s_tls: ":5223" is already used by listen.c2s_tls`}},
		15: {func(c *Config) { c.Listen.S2STLS = "5270" }, []string{`listen.s2s_tls: "5270" is not a host:port or "off"`}},
		16: {func(c *Config) { c.Listen.S2STLS = ":5270" }, nil},
	})
	if d := Default(); d.Listen.S2S != ":5269" || d.Listen.S2STLS != Off || d.S2SOn() {
		t.Fatalf("defaults: listen %q, on %v", d.Listen.S2S, d.S2SOn())
	}
}
