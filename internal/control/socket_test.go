package control

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
)

// The socket is the owner's only; a second server on the same directory
// is refused while the first answers; a socket left by a dead server is
// replaced; with none answering, Call says ErrNoServer.
func TestListen(t *testing.T) {
	dir := t.TempDir()
	if _, err := Call(context.Background(), dir, Request{Op: "user.list"}); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Call without a server: %v", err)
	}
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := Listen(dir); !errors.Is(err, ErrRunning) {
		t.Errorf("second Listen while the first answers: %v, want ErrRunning", err)
	}
	// A dead server's socket file: closed without unlinking.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	ln2, err := Listen(dir)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln2.Close()
}

// Unknown operations and failures come back as errors.
func TestDoErrors(t *testing.T) {
	o := &Ops{}
	if r := o.Do(context.Background(), Request{Op: "user.frobnicate"}); r.Err() == nil {
		t.Error("an unknown operation succeeded")
	}
	if r := o.Do(context.Background(), Request{Op: "room.destroy", Room: "lounge@conference.localhost"}); r.Error != ErrNoRooms.Error() {
		t.Errorf("room.destroy without rooms: %+v", r)
	}
}
