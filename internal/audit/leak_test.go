package audit

import (
	"io"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"parley/internal/config"
)

// TestNoGoroutineLeak: the log's writer, the forwarders and a syslog
// connection's reader all end with Close.
func TestNoGoroutineLeak(t *testing.T) {
	tl := openTestLog(t, Options{})
	key, err := LoadOrCreateKey(tl.dir)
	if err != nil {
		t.Fatal(err)
	}
	tl.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var received sync.WaitGroup
	var conns sync.WaitGroup
	got := make(chan struct{}, 10) // a connection's first bytes arrived
	conns.Add(1)
	go func() { // the receiver: reads until the sender closes
		defer conns.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				if _, err := c.Read(make([]byte, 1)); err == nil {
					got <- struct{}{}
				}
				io.Copy(io.Discard, c)
				c.Close()
				received.Done()
			}()
		}
	}()
	before := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		l, err := Open(t.Context(), Options{Store: tl.st, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		file, _ := NewSink(config.AuditSink{Name: "f", Type: "file", Path: filepath.Join(t.TempDir(), "a.jsonl")}, "t")
		tcp, _ := NewSink(config.AuditSink{Name: "t", Type: "syslog", Network: "tcp", Address: ln.Addr().String()}, "t")
		received.Add(1)
		fs := []*Forwarder{
			Forward(ForwarderOptions{Name: "f", Sink: file, Log: l, Store: tl.st}),
			Forward(ForwarderOptions{Name: "t", Sink: tcp, Log: l, Store: tl.st}),
		}
		seq, err := l.Append(t.Context(), rec(i))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, func() bool {
			c, _ := tl.st.AuditCursor(t.Context(), "f")
			return c == seq
		})
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("the syslog sink sent nothing")
		}
		for _, f := range fs {
			f.Close()
		}
		l.Close()
	}
	closed := make(chan struct{})
	go func() { received.Wait(); close(closed) }()
	select { // every connection was closed by its sink
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("a syslog connection was left open")
	}
	eventually(t, func() bool { return runtime.NumGoroutine() <= before+1 }) // +1: the receiver's accept loop
	ln.Close()
	conns.Wait()
}
