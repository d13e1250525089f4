package config

import (
	"testing"
	"time"
)

func TestValidateProxy65(t *testing.T) {
	checkValidate(t, []validateCase{
		0: {func(c *Config) {}, nil},
		1: {func(c *Config) { c.Listen.Proxy65 = Off }, nil},
		// A Listen written out without the key: off.
		2:  {func(c *Config) { c.Listen = Listen{C2S: ":5222", C2STLS: Off, HTTP: Off} }, nil},
		3:  {func(c *Config) { c.Listen.Proxy65 = "7777" }, []string{`listen.proxy65: "7777" is not a host:port`}},
		4:  {func(c *Config) { c.Listen.Proxy65 = ":5222" }, []string{`listen.proxy65: ":5222" is already used by listen.c2s`}},
		5:  {func(c *Config) { c.Listen.Proxy65 = "127.0.0.1:0" }, nil},
		6:  {func(c *Config) { c.Proxy65.MaxStreamsPerUser = -1 }, []string{"proxy65.max_streams_per_user: -1 is negative"}},
		7:  {func(c *Config) { c.Proxy65.BytesPerSecond = -5 }, []string{"proxy65.bytes_per_second: -5 is negative"}},
		8:  {func(c *Config) { c.Proxy65.MaxConnectionsPerIP = -1 }, []string{"proxy65.max_connections_per_ip: -1 is negative"}},
		9:  {func(c *Config) { c.Proxy65.IdleTimeout = Duration{-time.Second} }, []string{"proxy65.idle_timeout"}},
		10: {func(c *Config) { c.Proxy65.Port = 70000 }, []string{"proxy65.port: 70000 is not a port"}},
		// The proxy carries no credentials: plaintext's loopback rule does
		// not apply to it.
		11: {func(c *Config) {
			c.AllowPlaintext = true
			c.Listen = Listen{C2S: "127.0.0.1:5222", C2STLS: Off, HTTP: Off, Proxy65: ":7777"}
		}, nil},
		12: {func(c *Config) { c.Proxy65.MaxConnections = -1 }, []string{"proxy65.max_connections: -1 is negative"}},
	})
	if Default().Listen.Proxy65 != ":7777" {
		t.Fatal("the proxy does not listen on :7777 by default")
	}
}
