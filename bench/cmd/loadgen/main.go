// Command loadgen drives an XMPP server on loopback with one workload and
// prints the result as one JSON object (stdout) and a table (stderr):
//
//	loadgen -workload chat -port 5222 -users 100 -pairs 25 -duration 10s -pid $(pidof parley)
//	loadgen -workload muc -port 5222 -users 500 -occupants 500 -senders 5 -window 16 -pid $(pidof parley)
//
// With -report it instead reads JSON results (one per line) and writes the
// side-by-side Markdown report (bench/compare uses this).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"parley/bench/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		c        loadgen.Config
		workload string
		sources  string
		quiet    bool
		report   string
		meta     string
	)
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	names := make([]string, 0, len(loadgen.Workloads))
	for _, w := range loadgen.Workloads {
		names = append(names, w.Name)
	}
	fs.StringVar(&workload, "workload", "chat", "workload: "+strings.Join(names, ", "))
	fs.StringVar(&c.Host, "host", "127.0.0.1", "server `host` (loopback only)")
	fs.IntVar(&c.Port, "port", 5222, "server client `port`")
	fs.StringVar(&c.Domain, "domain", "localhost", "XMPP `domain`")
	fs.StringVar(&c.UserPrefix, "user-prefix", "bench", "users are PREFIX1..PREFIXn")
	fs.StringVar(&c.Password, "password", "bench-password", "every user's `password`")
	fs.IntVar(&c.Users, "users", 100, "number of users that exist on the server")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "logins at once")
	fs.DurationVar(&c.Duration, "duration", 0, "measured time (default 10s)")
	fs.IntVar(&c.Count, "count", 0, "stop after this many logins or messages (0: duration only)")
	fs.BoolVar(&c.TLS, "tls", true, "STARTTLS (false: plaintext, loopback only)")
	fs.StringVar(&c.Mechanism, "sasl", "SCRAM-SHA-1", "SASL `mechanism`: SCRAM-SHA-1, SCRAM-SHA-256, PLAIN")
	fs.IntVar(&c.Pairs, "pairs", 25, "sender/receiver pairs (chat, latency)")
	fs.IntVar(&c.Window, "window", 64, "messages in flight per pair (muc: per sender)")
	fs.IntVar(&c.Occupants, "occupants", 500, "sessions in the room (muc)")
	fs.IntVar(&c.Senders, "senders", 5, "occupants that send (muc)")
	fs.StringVar(&c.Room, "room", "", "the room's `JID` (muc, default bench@conference.DOMAIN)")
	fs.Float64Var(&c.Rate, "rate", 10000, "offered msgs/s, all pairs (latency)")
	fs.IntVar(&c.Conns, "conns", 10000, "idle sessions (idle)")
	fs.StringVar(&sources, "sources", "", "comma-separated local 127.0.0.x `addresses` to dial from")
	fs.DurationVar(&c.Settle, "settle", 0, "rest before reading RSS (idle, default 3s)")
	fs.IntVar(&c.PID, "pid", 0, "server `PID` for CPU time and RSS from /proc")
	fs.StringVar(&c.PprofURL, "pprof", "", "server pprof base `URL` (http://127.0.0.1:PORT)")
	fs.StringVar(&c.ProfilePrefix, "profile", "", "write the server's profiles to `PREFIX`.cpu.pprof and PREFIX.heap.pprof")
	fs.StringVar(&c.Server, "label", "", "server name in the results")
	fs.BoolVar(&quiet, "q", false, "no table or progress on stderr")
	fs.StringVar(&report, "report", "", "read results (JSON lines) from `FILE` and write the Markdown report to stdout")
	fs.StringVar(&meta, "meta", "", "report: JSON `FILE` with machine, versions, command, notes")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if report != "" {
		return writeReport(report, meta)
	}
	if sources != "" {
		c.Sources = strings.Split(sources, ",")
	}
	if !quiet {
		c.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	release := make(chan os.Signal, 1)
	signal.Notify(release, syscall.SIGUSR1) // ends the idle rest (bench/idle)
	c.Release = release
	res, err := loadgen.Run(ctx, workload, c)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	if !quiet {
		res.WriteTable(os.Stderr)
	}
	if res.Error != "" {
		return errors.New("run ended early: " + res.Error)
	}
	return nil
}

func writeReport(path, metaPath string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var results []loadgen.Result
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] != '{' {
			continue
		}
		var r loadgen.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		results = append(results, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var m loadgen.Meta
	if metaPath != "" {
		b, err := os.ReadFile(metaPath)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", metaPath, err)
		}
	}
	return loadgen.WriteMarkdown(os.Stdout, results, m)
}
