package audit

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"parley/internal/config"
	"parley/internal/daemontest"
)

// rsyslogd is Debian's rsyslog, started by the test with its own
// configuration, work directory and a TLS listener (imtcp with the gtls
// driver, rsyslog-gnutls) on a loopback port, writing each message's MSG
// to a file.
type rsyslogd struct {
	*daemontest.Daemon
	out, addr, ca string
}

func startRsyslog(t *testing.T) *rsyslogd {
	t.Helper()
	bin := daemontest.Require(t, "rsyslogd", "rsyslog rsyslog-gnutls")
	dir := t.TempDir()
	r := &rsyslogd{out: filepath.Join(dir, "received.log"), addr: daemontest.FreeAddr(t), ca: filepath.Join(dir, "cert.pem")}
	daemontest.WriteCert(t, dir)
	_, port, _ := net.SplitHostPort(r.addr)
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "rsyslog.conf")
	daemontest.WriteFile(t, conf, fmt.Sprintf(`global(
	workDirectory=%q
	defaultNetstreamDriverCAFile=%q
	defaultNetstreamDriverCertFile=%q
	defaultNetstreamDriverKeyFile=%q
	maxMessageSize="64k"
)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port=%q)
template(name="msgonly" type="string" string="%%msg%%\n")
action(type="omfile" file=%q template="msgonly" flushOnTXEnd="on")
`, work, r.ca, r.ca, filepath.Join(dir, "key.pem"), port, r.out))
	// SIGTERM, as an operator would stop it.
	r.Daemon = daemontest.Start(t, &daemontest.Daemon{Path: bin, Args: []string{"-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid")},
		Addr: r.addr, Signal: syscall.SIGTERM})
	return r
}

// received returns the records rsyslog wrote, in arrival order.
func (r *rsyslogd) received(t *testing.T) []Record {
	t.Helper()
	type line struct {
		Seq  int64
		Prev string
		Hash string
	}
	var recs []Record
	for _, j := range jsonLines[line](t, r.out, true) {
		prev, _ := hex.DecodeString(j.Prev)
		hash, _ := hex.DecodeString(j.Hash)
		recs = append(recs, Record{Seq: j.Seq, Prev: prev, Hash: hash})
	}
	return recs
}

// TestRsyslogOutage: every record reaches a real rsyslog over TLS with
// octet counting, also those written while it was stopped, in order.
func TestRsyslogOutage(t *testing.T) {
	rs := startRsyslog(t)
	tl := openTestLog(t, Options{})
	sink, err := NewSink(config.AuditSink{Name: "siem", Type: "syslog", Network: "tls", Address: rs.addr,
		CA: rs.ca, ServerName: "localhost"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var backlog atomic.Int64
	f := Forward(ForwarderOptions{Name: "siem", Sink: sink, Log: tl.Log, Store: tl.st, Backlog: backlog.Store})
	defer f.Close()

	emit := func(n int) {
		for i := 0; i < n; i++ {
			tl.Emit(rec(i))
		}
	}
	distinct := func() map[int64]bool {
		seen := map[int64]bool{}
		for _, r := range rs.received(t) {
			seen[r.Seq] = true
		}
		return seen
	}
	emit(20)
	eventually(t, func() bool { return len(distinct()) == 20 })

	rs.Stop()
	emit(20)
	// The forwarder finds the receiver gone: the records wait.
	eventually(t, func() bool { return backlog.Load() >= 20 })

	rs.Restart()
	emit(20)
	eventually(t, func() bool { return len(distinct()) == 60 })
	eventually(t, func() bool { return backlog.Load() == 0 })

	// In order: records sent again after the outage repeat a stretch, but
	// first arrivals ascend and every record follows its predecessor.
	got := rs.received(t)
	var last int64
	byHash := map[string]bool{hex.EncodeToString(make([]byte, 32)): true}
	for _, r := range got {
		if r.Seq <= last {
			continue // a resend
		}
		if r.Seq != last+1 || !byHash[hex.EncodeToString(r.Prev)] {
			t.Fatalf("record %d arrived after %d, or without its predecessor", r.Seq, last)
		}
		byHash[hex.EncodeToString(r.Hash)] = true
		last = r.Seq
	}
	if last != 60 {
		t.Fatalf("last record %d, want 60", last)
	}
	t.Logf("rsyslog received %d messages for 60 records", len(got))
}
