package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/store"
)

// jsonLines decodes each line of the JSON Lines file at path as a T, nil
// if the file does not exist. With skipBlank, lines that are only white
// space are passed over; without it, every line must be a JSON value.
func jsonLines[T any](t *testing.T, path string, skipBlank bool) []T {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if skipBlank && len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

// fileSeqs returns the seqs of the JSON records in a file sink's file,
// nil if it does not exist.
func fileSeqs(t *testing.T, path string) []int64 {
	t.Helper()
	var seqs []int64
	for _, r := range jsonLines[struct{ Seq int64 }](t, path, false) {
		seqs = append(seqs, r.Seq)
	}
	return seqs
}

// TestFileRotation: the file is rotated before it would pass max_size,
// keep rotated files stay, and the records run on across them in order.
func TestFileRotation(t *testing.T) {
	tl := openTestLog(t, Options{})
	tl.appendN(t, 30)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := NewSink(config.AuditSink{Name: "f", Type: "file", Path: path, MaxSize: 1500, Keep: 2}, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	recs, err := Query(t.Context(), tl.st, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += 4 {
		if err := sink.Write(t.Context(), recs[i:min(i+4, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	var all []int64
	for _, p := range []string{path + ".2", path + ".1", path} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 1500 || st.Size() == 0 {
			t.Fatalf("%s has %d bytes, want 1..1500", p, st.Size())
		}
		all = append(all, fileSeqs(t, p)...)
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf("%s.3 exists (keep = 2): %v", path, err)
	}
	for i := 1; i < len(all); i++ {
		if all[i] != all[i-1]+1 {
			t.Fatalf("records across the files are not consecutive: %v", all)
		}
	}
	if all[len(all)-1] != 30 || len(all) < 10 {
		t.Fatalf("files hold %v, want the last records up to 30", all)
	}
}

// TestForwarderResumes: a forwarder stopped and started again goes on from
// its durable cursor: nothing twice, nothing missing, and the backlog
// falls to zero.
func TestForwarderResumes(t *testing.T) {
	tl := openTestLog(t, Options{})
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var backlog atomic.Int64
	start := func() *Forwarder {
		sink, err := NewSink(config.AuditSink{Name: "file", Type: "file", Path: path}, "test")
		if err != nil {
			t.Fatal(err)
		}
		return Forward(ForwarderOptions{Name: "file", Sink: sink, Log: tl.Log, Store: tl.st, Backlog: backlog.Store})
	}
	f := start()
	tl.appendN(t, 5)
	eventually(t, func() bool { return len(fileSeqs(t, path)) == 5 && backlog.Load() == 0 })
	f.Close()
	tl.appendN(t, 5)
	f = start()
	defer f.Close()
	eventually(t, func() bool { return len(fileSeqs(t, path)) >= 10 && backlog.Load() == 0 })
	if got := fmt.Sprint(fileSeqs(t, path)); got != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Fatalf("file holds %s", got)
	}
	if c, _ := tl.st.AuditCursor(t.Context(), "file"); c != 10 {
		t.Fatalf("cursor %d, want 10", c)
	}
}

var syslogLine = regexp.MustCompile(`^<(\d+)>1 \S+ \S+ parley \d+ (\S+) \[parley@32473 seq="(\d+)" outcome="(\w+)"\] (.*)$`)

// TestUDPSink: one RFC 5426 datagram per record, in order.
func TestUDPSink(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	tl := openTestLog(t, Options{})
	sink, err := NewSink(config.AuditSink{Name: "udp", Type: "syslog", Network: "udp", Address: pc.LocalAddr().String(), Format: "cef"}, "9.9")
	if err != nil {
		t.Fatal(err)
	}
	f := Forward(ForwarderOptions{Name: "udp", Sink: sink, Log: tl.Log, Store: tl.st})
	defer f.Close()
	tl.appendN(t, 5)
	buf := make([]byte, 65536)
	for want := 1; want <= 5; want++ {
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		m := syslogLine.FindStringSubmatch(string(buf[:n]))
		if m == nil || m[1] != "109" || m[2] != ActionLogin || m[3] != strconv.Itoa(want) ||
			!strings.HasPrefix(m[5], "CEF:0|parley|parley|9.9|login|Login|3|") || !strings.Contains(m[5], "externalId="+strconv.Itoa(want)+" ") {
			t.Fatalf("datagram %d: %q", want, buf[:n])
		}
	}
}
