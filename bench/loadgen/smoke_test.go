package loadgen_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/bench/loadgen"
	"parley/internal/config"
	"parley/internal/xmpptest/testserver"
)

// startServer runs an in-process parley with its shapers raised (as the
// benchmark configures it) and users bench1..benchN, and returns a
// generator configuration aimed at it.
func startServer(t *testing.T, users int) (*testserver.Server, loadgen.Config) {
	t.Helper()
	srv := testserver.Quiet(t, func(c *config.Config) {
		c.Limits.StanzaRate = 1e6
		c.Limits.StanzaBurst = 1e6
		c.Limits.MaxConnectionsPerIP = 100000
		c.AllowPlaintext = true
	})
	for i := 1; i <= users; i++ {
		srv.AddUser(t, "bench"+strconv.Itoa(i), "pw")
	}
	addr := srv.Addr("c2s").(*net.TCPAddr)
	return srv, loadgen.Config{
		Host: "127.0.0.1", Port: addr.Port, Domain: "localhost", UserPrefix: "bench", Password: "pw",
		Users: users, Concurrency: 4, Duration: 250 * time.Millisecond, TLS: true, Mechanism: "SCRAM-SHA-1",
		Pairs: 3, Window: 16, Conns: 40, Settle: 100 * time.Millisecond, Occupants: 20, Senders: 3,
		PID: os.Getpid(), Server: "parley",
	}
}

// Every workload of the table runs for a quarter of a second against an
// in-process parley and reports sensible figures.
func TestWorkloadsSmoke(t *testing.T) {
	_, cfg := startServer(t, 8)
	for _, w := range loadgen.Workloads {
		for _, tls := range []bool{true, false} {
			t.Run(w.Name+"/tls="+strconv.FormatBool(tls), func(t *testing.T) {
				c := cfg
				c.TLS = tls
				c.Rate = 2000
				r, err := loadgen.Run(context.Background(), w.Name, c)
				if err != nil {
					t.Fatal(err)
				}
				var sb strings.Builder
				r.WriteTable(&sb)
				t.Log("\n" + sb.String())
				if r.Error != "" {
					t.Fatalf("run ended early: %s", r.Error)
				}
				switch w.Name {
				case "login":
					if r.Logins == 0 || r.LoginsPerSec <= 0 || r.LoginP99 < r.LoginP50 {
						t.Errorf("login figures: %+v", r)
					}
				case "chat", "latency":
					if r.Delivered == 0 || r.Lost != 0 || r.Duplicated != 0 || r.Delivered != r.Sent {
						t.Errorf("chat figures: sent %d delivered %d lost %d dup %d", r.Sent, r.Delivered, r.Lost, r.Duplicated)
					}
					if r.LatP50 <= 0 || r.LatP99 < r.LatP50 || r.LatP999 < r.LatP99 {
						t.Errorf("latency: p50 %v p99 %v p999 %v", r.LatP50, r.LatP99, r.LatP999)
					}
					// The server's speed is not under test here (and -race
					// slows it down), only that pacing never exceeds the rate.
					if w.Name == "latency" && r.MsgsPerSec > 1.5*c.Rate {
						t.Errorf("offered %v msgs/s, delivered %v", c.Rate, r.MsgsPerSec)
					}
				case "idle":
					if r.ConnsAlive != c.Conns || r.RSSAfter == 0 {
						t.Errorf("idle: %d of %d alive, RSS %d", r.ConnsAlive, c.Conns, r.RSSAfter)
					}
				case "muc":
					// 20 occupants from 8 users: some users are in the room
					// with several sessions under several nicknames.
					if r.Occupants != c.Occupants || r.JoinSecs <= 0 {
						t.Errorf("muc: %d occupants, joined in %v s", r.Occupants, r.JoinSecs)
					}
					if r.Sent == 0 || r.Delivered != r.Sent*uint64(c.Occupants) || r.Lost != 0 || r.Duplicated != 0 {
						t.Errorf("muc figures: sent %d delivered %d (want %d) lost %d dup %d", r.Sent, r.Delivered, r.Sent*uint64(c.Occupants), r.Lost, r.Duplicated)
					}
					if r.LatP50 <= 0 || r.LatP99 < r.LatP50 || r.DeliveriesPerSec < r.MsgsPerSec*float64(c.Occupants)*0.99 {
						t.Errorf("muc: p50 %v p99 %v, %v msgs/s, %v deliveries/s", r.LatP50, r.LatP99, r.MsgsPerSec, r.DeliveriesPerSec)
					}
					if r.ServerCPUPerMsg <= 0 {
						t.Errorf("muc: server CPU per message %v", r.ServerCPUPerMsg)
					}
				}
			})
		}
	}
}

// A server that goes away mid-run ends the run promptly with an error and
// the figures so far. The server stops once the pairs are logged in and
// chatting (a fixed delay from the start raced the logins on a loaded
// machine), and the test waits for that Stop to end before its cleanup
// stops the server again.
func TestServerStopsMidRun(t *testing.T) {
	srv, cfg := startServer(t, 4)
	cfg.Pairs, cfg.Duration = 2, 20*time.Second
	stopped := make(chan struct{})
	var once sync.Once
	var stopAt time.Time // written before stopped is closed
	cfg.Progress = lineWriter(func(line string) {
		if !strings.Contains(line, "logged in") {
			return
		}
		once.Do(func() {
			time.AfterFunc(300*time.Millisecond, func() {
				defer close(stopped)
				stopAt = time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				srv.Stop(ctx)
			})
		})
	})
	r, err := loadgen.Run(context.Background(), "chat", cfg)
	end := time.Now()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the pairs never logged in")
	}
	if err != nil {
		t.Fatal(err)
	}
	if d := end.Sub(stopAt); d > 10*time.Second {
		t.Errorf("the run ended %v after the server stopped", d)
	}
	if r.Error == "" || r.Delivered == 0 {
		t.Errorf("want an error and a partial result, got error %q, %d delivered", r.Error, r.Delivered)
	}
	t.Log(r.Error)
}

// lineWriter hands every write (the generator's progress lines) to f.
type lineWriter func(line string)

func (f lineWriter) Write(p []byte) (int, error) {
	f(string(p))
	return len(p), nil
}

func TestRefusesNonLoopback(t *testing.T) {
	for i, c := range []loadgen.Config{
		{Host: "192.0.2.1"},
		{Host: "127.0.0.1", Sources: []string{"10.0.0.1"}},
		{Host: "127.0.0.1", PprofURL: "http://192.0.2.1:6060"},
	} {
		if _, err := loadgen.Run(context.Background(), "login", c); !errors.Is(err, loadgen.ErrNotLoopback) {
			t.Errorf("%d: err = %v, want ErrNotLoopback", i, err)
		}
	}
}
