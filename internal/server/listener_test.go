package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/server"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// exhaustedListener stands for a process out of file descriptors while
// failing is set: each connection that arrives is dropped and Accept
// fails with EMFILE, as accept(2) does.
type exhaustedListener struct {
	*net.TCPListener
	failing atomic.Bool
}

func (l *exhaustedListener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if err != nil || !l.failing.Load() {
		return c, err
	}
	c.Close()
	return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}

// The client listener outlives running out of file descriptors, /healthz
// says so while it lasts, and logins work again afterwards.
func TestListenerSurvivesEMFILE(t *testing.T) {
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Listen = config.Listen{C2S: "127.0.0.1:0", C2STLS: config.Off, HTTP: "127.0.0.1:0"}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	var c2s *exhaustedListener
	server.SetListen(srv, func(network, addr string) (net.Listener, error) {
		ln, err := net.Listen(network, addr)
		if err != nil || c2s != nil {
			return ln, err
		}
		c2s = &exhaustedListener{TCPListener: ln.(*net.TCPListener)} // the first is c2s
		return c2s, nil
	})
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	u, _ := testserver.NewUser("alice", password)
	if err := srv.Store().CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	health := "http://" + srv.Addr("http").String() + "/healthz"

	c2s.failing.Store(true)
	deadline := time.Now().Add(wait)
	for {
		if c, err := net.Dial("tcp", srv.Addr("c2s").String()); err == nil {
			c.Close()
		}
		code, body := get(t, health)
		if code == http.StatusServiceUnavailable && strings.Contains(body, "listener c2s failing") &&
			strings.Contains(body, "too many open files") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz = %d %q while the c2s listener fails", code, body)
		}
	}

	c2s.failing.Store(false)
	c, err := xmpptest.Dial(ctx, srv.Addr("c2s").String(), xmpptest.Options{User: "alice", Password: password, Resource: "r"})
	if err != nil {
		t.Fatalf("login after the descriptors came back: %v", err)
	}
	defer c.Close()
	if code, body := get(t, health); code != 200 {
		t.Errorf("/healthz = %d %q after recovery", code, body)
	}
}

// httpConn opens a keep-alive connection and makes one request on it.
func httpConn(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	if err := healthzOn(c, r); err != nil {
		t.Fatalf("request on a new connection: %v", err)
	}
	return c, r
}

func healthzOn(c net.Conn, r *bufio.Reader) error {
	c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return errors.New(resp.Status)
	}
	return nil
}

// An idle HTTP keep-alive connection is closed after http_idle_timeout.
func TestHTTPKeepAliveIdleTimeout(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Limits.HTTPIdleTimeout = config.Duration{Duration: 50 * time.Millisecond} })
	c, r := httpConn(t, srv.HTTP())
	c.SetReadDeadline(time.Now().Add(wait))
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("idle keep-alive connection: read %v, want EOF (closed by the server)", err)
	}
}

// HTTP connections count towards max_connections_per_ip: beyond it a new
// one is closed before its first request; when one ends there is room.
func TestHTTPConnectionsPerIPCap(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Limits.MaxConnectionsPerIP = 2 })
	first, _ := httpConn(t, srv.HTTP())
	httpConn(t, srv.HTTP())

	c, err := net.Dial("tcp", srv.HTTP())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := healthzOn(c, bufio.NewReader(c)); err == nil {
		t.Fatal("a third HTTP connection from the address was served (cap 2)")
	}

	first.Close()
	deadline := time.Now().Add(wait)
	for {
		c, err := net.Dial("tcp", srv.HTTP())
		if err != nil {
			t.Fatal(err)
		}
		err = healthzOn(c, bufio.NewReader(c))
		c.Close()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a connection ended: %v", err)
		}
	}
}
