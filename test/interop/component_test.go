package interop

import (
	"testing"

	"parley/internal/config"
	"parley/internal/xmpptest/testserver"
)

// TestSlixmppComponent runs slix_component.py: an external component
// written with slixmpp's ComponentXMPP (XEP-0114) connects with its
// secret, is listed in the server's disco#items, and exchanges messages
// with a client both ways.
func TestSlixmppComponent(t *testing.T) {
	requireSlixmpp(t)
	const secret = "a component secret"
	srv := testserver.Start(t, func(c *config.Config) {
		c.Listen.Component = "127.0.0.1:0"
		c.Components = []config.Component{{Domain: "gateway.localhost", Secret: secret}}
	})
	srv.AddUser(t, "alice", password)
	host, port := hostPort(t, srv.C2S())
	_, cport := hostPort(t, srv.Addr("component").String())
	runScript(t, "slix_component.py", host, port, "alice@localhost", password, "gateway.localhost", secret, cport)
}
