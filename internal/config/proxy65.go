package config

import (
	"fmt"
	"net"
	"strings"
)

// Proxy65 configures the SOCKS5 bytestreams proxy (XEP-0065) at
// proxy.<domain>. Its listener is [listen] proxy65 (default :7777, "off"
// turns the proxy off); these keys say what clients are told and bound
// what it may cost. Zero means the default.
type Proxy65 struct {
	// Host and Port are the address announced to clients (the
	// <streamhost/>), when it is not the listener's: behind NAT or a
	// load balancer. An empty Host is the listener's IP when it listens
	// on one, else the domain; Port 0 is the listener's.
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// MaxConnections bounds open SOCKS5 connections (default 1000);
	// beyond it a new connection is closed at once.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerIP bounds them per client address (default 20),
	// closed the same way.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// MaxStreamsPerUser bounds the streams one user may have active
	// (default 5); an activation beyond it gets resource-constraint.
	MaxStreamsPerUser int `toml:"max_streams_per_user"`
	// BytesPerSecond bounds each stream in each direction (default
	// 4 MiB/s).
	BytesPerSecond int `toml:"bytes_per_second"`
	// IdleTimeout is how long a connection may wait for its peer and the
	// activation (default 1m); then it is closed.
	IdleTimeout Duration `toml:"idle_timeout"`
}

// validateProxy65 checks [listen] proxy65 ("" is off too: a Listen
// written out in full without it) and [proxy65]. The proxy carries no
// credentials, so allow_plaintext's loopback rule does not apply to it.
func (c *Config) validateProxy65() []error {
	var errs []error
	if addr := c.Listen.Proxy65; addr != "" && addr != Off {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !validPort(port) {
			errs = append(errs, &KeyError{Key: "listen.proxy65", Msg: fmt.Sprintf("%q is not a host:port or %q", addr, Off)})
		} else if port != "0" {
			norm := net.JoinHostPort(strings.ToLower(host), port)
			for _, l := range c.listeners() {
				if h, p, err := net.SplitHostPort(l.addr); err == nil && net.JoinHostPort(strings.ToLower(h), p) == norm {
					errs = append(errs, &KeyError{Key: "listen.proxy65", Msg: fmt.Sprintf("%q is already used by %s", addr, l.key)})
				}
			}
		}
	}
	p := &c.Proxy65
	notNegative(&errs, "proxy65.max_connections", p.MaxConnections)
	notNegative(&errs, "proxy65.max_connections_per_ip", p.MaxConnectionsPerIP)
	notNegative(&errs, "proxy65.max_streams_per_user", p.MaxStreamsPerUser)
	notNegative(&errs, "proxy65.bytes_per_second", p.BytesPerSecond)
	notNegative(&errs, "proxy65.idle_timeout", p.IdleTimeout.Duration)
	if p.Port < 0 || p.Port > 65535 {
		errs = append(errs, &KeyError{Key: "proxy65.port", Msg: fmt.Sprintf("%d is not a port", p.Port)})
	}
	return errs
}

// DefaultProxy65Listen is [listen] proxy65 unless configured: the port
// XEP-0065 deployments commonly use.
const DefaultProxy65Listen = ":7777"
