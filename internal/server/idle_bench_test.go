package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/server"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// The idle-session benchmark runs the server in a child process (this test
// binary, re-executed with envIdleChild set) so that what it measures is
// the server alone, and so that clients and server each have the process's
// 20,000 open files to themselves: 10,000 sessions fit.
const (
	envIdleN     = "PARLEY_IDLE_N"     // sessions to open; default 2000
	envIdleChild = "PARLEY_IDLE_CHILD" // set in the child: serve, then measure on request
	// envIdleProfile names a file the child writes a heap profile to at
	// each measurement (the last one, with every session open, remains).
	envIdleProfile = "PARLEY_IDLE_HEAPPROFILE"
	idleResource   = 50                     // sessions per account (the server caps resources at 100)
	idlePassword   = "idle benchmark pw"    // every idle account's password
	idleDomain     = "localhost"            //
	idleWorkers    = 16                     // concurrent logins
	idleSettle     = 500 * time.Millisecond // let per-connection buffers return to pools
)

func TestMain(m *testing.M) {
	if os.Getenv(envIdleChild) != "" {
		os.Exit(idleChild())
	}
	os.Exit(m.Run())
}

// BenchmarkIdleSession opens PARLEY_IDLE_N authenticated, bound sessions
// (STARTTLS, SCRAM-SHA-256, initial presence) to a server in a child
// process and reports what each costs the server: heap in use and RSS
// growth, and goroutines. DESIGN.md budgets 16 KiB per idle session. Run
// by hand, e.g.
//
//	PARLEY_IDLE_N=10000 go test -run '^$' -bench IdleSession -benchtime 1x ./internal/server
func BenchmarkIdleSession(b *testing.B) {
	n := 2000
	if s := os.Getenv(envIdleN); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("%s=%q is not a positive count", envIdleN, s)
		}
		n = v
	}
	for _, mode := range []string{"tls", "plaintext"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				runIdle(b, n, mode == "plaintext")
			}
		})
	}
}

func runIdle(b *testing.B, n int, plaintext bool) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envIdleChild+"=1", envIdleN+"="+strconv.Itoa(n), "PARLEY_IDLE_DATA="+b.TempDir(),
		"PARLEY_IDLE_PLAIN="+strconv.FormatBool(plaintext))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child stops when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	lines := bufio.NewScanner(stdout)
	readLine := func() string {
		if !lines.Scan() {
			b.Fatalf("idle child ended early: %v", lines.Err())
		}
		return lines.Text()
	}
	addr := strings.TrimPrefix(readLine(), "addr ")
	measure := func() (heap, stack, rss, goroutines float64) {
		fmt.Fprintln(stdin, "measure")
		_, err := fmt.Sscanf(readLine(), "heap %g stack %g rss %g goroutines %g", &heap, &stack, &rss, &goroutines)
		if err != nil {
			b.Fatal(err)
		}
		return
	}
	heap0, stack0, rss0, g0 := measure()

	clients := make([]*xmpptest.Client, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	start := time.Now()
	for range idleWorkers {
		wg.Go(func() {
			for i := range next {
				c, err := xmpptest.Dial(context.Background(), addr, xmpptest.Options{
					User: "idle" + strconv.Itoa(i/idleResource), Password: idlePassword, Resource: "r" + strconv.Itoa(i),
					NoTLS: plaintext})
				if err == nil {
					err = c.SendPresence()
				}
				mu.Lock()
				clients[i] = c
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("session %d: %w", i, err)
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Kill()
			}
		}
	}()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.Logf("%d sessions logged in in %v", n, time.Since(start).Round(time.Millisecond))
	time.Sleep(idleSettle)
	heap1, stack1, rss1, g1 := measure()
	b.ReportMetric((heap1-heap0)/float64(n), "heap-B/session")
	b.ReportMetric((stack1-stack0)/float64(n), "stack-B/session")
	b.ReportMetric((rss1-rss0)/float64(n), "rss-B/session")
	b.ReportMetric((g1-g0)/float64(n), "goroutines/session")
	b.ReportMetric(float64(n), "sessions")
}

// idleChild serves until stdin closes, answering each "measure" line with
// the heap and stacks in use, the RSS and the goroutine count after a GC.
func idleChild() int {
	n, _ := strconv.Atoi(os.Getenv(envIdleN))
	cfg := config.Default()
	cfg.Data = os.Getenv("PARLEY_IDLE_DATA")
	cfg.Domain = idleDomain
	cfg.Listen = config.Listen{C2S: "127.0.0.1:0", C2STLS: config.Off, HTTP: config.Off}
	cfg.Limits.MaxConnectionsPerIP = n + 100
	cfg.AllowPlaintext = os.Getenv("PARLEY_IDLE_PLAIN") == "true" // the listener is loopback
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle child:", err)
		return 1
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "idle child:", err)
		return 1
	}
	defer srv.Stop(ctx)
	u, err := testserver.NewUser("", idlePassword)
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle child:", err)
		return 1
	}
	for i := range (n + idleResource - 1) / idleResource {
		u.Username = "idle" + strconv.Itoa(i)
		if err := srv.Store().CreateUser(ctx, u); err != nil {
			fmt.Fprintln(os.Stderr, "idle child:", err)
			return 1
		}
	}
	fmt.Println("addr", srv.Addr("c2s"))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "measure" {
			continue
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if path := os.Getenv(envIdleProfile); path != "" {
			writeHeapProfile(path)
		}
		fmt.Printf("heap %d stack %d rss %d goroutines %d\n", ms.HeapInuse, ms.StackInuse, rssBytes(), runtime.NumGoroutine())
	}
	return 0
}

// rssBytes reads VmRSS from /proc (Linux), or 0.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// writeHeapProfile saves the heap profile for `go tool pprof`.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle child:", err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "idle child:", err)
	}
}
