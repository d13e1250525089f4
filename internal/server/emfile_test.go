package server_test

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/internal/xmpptest"
)

// `parley serve` with a descriptor limit of 64 (issue 10 item 10): clients
// beyond what it can hold are closed at once instead of killing the
// listener, and once they are gone logins work again.
func TestServeOutOfDescriptors(t *testing.T) {
	bin := parleyBinary(t)
	data := t.TempDir()
	parleyCmd(t, bin, "user", "add", "alice", "--password", restartPass, "--data", data, "--domain", "localhost")
	conf := filepath.Join(t.TempDir(), "parley.toml")
	if err := os.WriteFile(conf, []byte("[listen]\nproxy65 = \"off\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", append([]string{"-c", `ulimit -n 64 && exec "$0" "$@"`, bin}, serveArgs(data, "--config", conf)...)...)
	p := runServe(t, cmd)

	// More connections than the process has descriptors: the last ones
	// are closed by the server at once.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	shed := 0
	for range 100 {
		c, err := net.Dial("tcp", p.c2s)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// A served connection answers a stream header; a shed one is closed.
	for _, c := range conns {
		io.WriteString(c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(restartWait))
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			shed++
		}
	}
	if shed == 0 {
		t.Fatal("no connection beyond the descriptor limit was closed")
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	select {
	case <-p.done:
		t.Fatalf("parley serve exited:\n%s", p.logText())
	default:
	}
	// The listener lives: a login works once descriptors are free.
	xmpptest.Eventually(t, restartWait, func() error {
		c, err := xmpptest.Dial(t.Context(), p.c2s, xmpptest.Options{User: "alice", Password: restartPass})
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
	if strings.Contains(p.logText(), "listener failed") {
		t.Errorf("the listener failed:\n%s", p.logText())
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout() || err == syscall.ETIMEDOUT
}
