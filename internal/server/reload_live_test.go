package server_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// preAuthFeatures opens a plaintext stream and returns its features.
func preAuthFeatures(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	features, _ := xmpptest.StreamFeatures(t, c, "localhost")
	return features
}

// Reload opens and closes in-band registration for new streams, and names
// only the settings that wait for a restart.
func TestReloadRegistration(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.AllowPlaintext = true })
	if f := preAuthFeatures(t, srv.C2S()); strings.Contains(f, "iq-register") {
		t.Fatalf("registration offered while off: %s", f)
	}
	cfg := srv.Config
	cfg.Register.Enabled = true
	cfg.Limits.StanzaBurst++
	cfg.Retention.Archive = config.Period{Days: 30, Set: true}
	restart, err := srv.Reload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(restart, " ") != "limits.stanza_burst retention.archive" {
		t.Errorf("restart needed for %v, want [limits.stanza_burst retention.archive]", restart)
	}
	if f := preAuthFeatures(t, srv.C2S()); !strings.Contains(f, "iq-register") {
		t.Fatalf("registration not offered after the reload: %s", f)
	}
	cfg.Register.Enabled = false
	if _, err := srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if f := preAuthFeatures(t, srv.C2S()); strings.Contains(f, "iq-register") {
		t.Fatalf("registration still offered after closing it: %s", f)
	}
}
