package interop

import (
	"testing"

	"parley/internal/config"
)

// TestSlixmppBytestreams runs slix_proxy65.py: slixmpp's XEP-0065 plugin
// finds parley's proxy by service discovery, negotiates a bytestream
// through it between two accounts and moves 200 kB one way and an answer
// back, compared byte for byte.
func TestSlixmppBytestreams(t *testing.T) {
	srv := startPair(t, func(c *config.Config) { c.Listen.Proxy65 = "127.0.0.1:0" })
	runPair(t, srv, "slix_proxy65.py", "proxy.localhost")
}
