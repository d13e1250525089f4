package storetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"parley/internal/store"
)

// The kill test of every backend (the promise behind acknowledging a
// stanza as stored, XEP-0198): a child process, the test binary itself,
// stores numbered offline messages for "alice" and prints each number once
// StoreOffline returned; the parent kills it with SIGKILL mid-stream and
// checks that every acknowledged number is stored.

// KillWriter starts cmd (the test binary, told by its environment to run
// ChildWriter), reads 2000 acknowledgements, kills it, reads what it
// printed up to its death too (those were acknowledged while their batch
// was the one committing: the ones at risk), and returns them all.
func KillWriter(t *testing.T, cmd *exec.Cmd) map[int64]bool {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[int64]bool{}
	lines := bufio.NewScanner(out)
	read := func(limit int) {
		for len(acked) < limit && lines.Scan() {
			n, err := strconv.ParseInt(lines.Text(), 10, 64)
			if err != nil {
				t.Fatalf("child said %q", lines.Text())
			}
			acked[n] = true
		}
	}
	read(2000)
	if len(acked) < 2000 {
		cmd.Wait() //nolint:errcheck // reported below
		t.Fatalf("child stopped after %d acknowledgements: %s", len(acked), stderr.Bytes())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	read(math.MaxInt)
	cmd.Wait() //nolint:errcheck // killed on purpose
	return acked
}

// ChildWriter is the child: it stores numbered messages for "alice" (who
// must exist) from 16 goroutines until killed, printing each number after
// its StoreOffline returned. It never returns.
func ChildWriter(s store.Offline) {
	ctx := context.Background()
	acks := make(chan int64, 64)
	for g := range int64(16) {
		go func() {
			for i := g; ; i += 16 {
				if err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: strconv.AppendInt(nil, i, 10)}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				acks <- i
			}
		}()
	}
	// Flushes of at most 4096 bytes (PIPE_BUF) reach the pipe whole, so
	// the kill cannot leave half a number for the parent to misread.
	w := bufio.NewWriterSize(os.Stdout, 4096)
	for n := range acks {
		fmt.Fprintln(w, n)
		if len(acks) == 0 {
			w.Flush()
		}
	}
}

// CheckAcked fails for every acknowledged number that username's offline
// messages do not hold.
func CheckAcked(t *testing.T, s store.Offline, username string, acked map[int64]bool) {
	t.Helper()
	msgs, err := s.OfflineMessages(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, m := range msgs {
		n, err := strconv.ParseInt(string(m.Stanza), 10, 64)
		if err != nil {
			t.Fatalf("stored %q", m.Stanza)
		}
		stored[n] = true
	}
	for n := range acked {
		if !stored[n] {
			t.Errorf("message %d was acknowledged but is not stored", n)
		}
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(stored))
}
