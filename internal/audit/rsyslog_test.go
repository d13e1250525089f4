package audit

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"parley/internal/config"
)

// rsyslogd is Debian's rsyslog, started by the test with its own
// configuration, work directory and a TLS listener (imtcp with the gtls
// driver, rsyslog-gnutls) on a loopback port, writing each message's MSG
// to a file.
type rsyslogd struct {
	t      *testing.T
	bin    string
	dir    string
	conf   string
	out    string
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	ca     string
}

func startRsyslog(t *testing.T) *rsyslogd {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rsyslogd not installed (CI=true: .ci/run installs rsyslog and rsyslog-gnutls)")
		}
		t.Skip("rsyslogd not installed (Debian packages rsyslog, rsyslog-gnutls)")
	}
	dir := t.TempDir()
	r := &rsyslogd{t: t, bin: bin, dir: dir, conf: filepath.Join(dir, "rsyslog.conf"), out: filepath.Join(dir, "received.log")}
	r.ca = writeTestPKI(t, dir)
	// A port the kernel picked, free again for rsyslog to bind.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(r.addr)
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global(
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
`, work, r.ca, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"), port, r.out)
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *rsyslogd) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	var stderr bytes.Buffer
	r.cmd.Stdout, r.cmd.Stderr = &stderr, &stderr
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(r.cmd, r.exited)
	// Ready when it accepts connections.
	eventually(r.t, func() bool {
		select {
		case <-r.exited:
			r.t.Fatalf("rsyslogd exited: %s", stderr.String())
		default:
		}
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// stop ends rsyslogd with SIGTERM, as an operator would, and waits.
func (r *rsyslogd) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(20 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

// received returns the records rsyslog wrote, in arrival order.
func (r *rsyslogd) received(t *testing.T) []Record {
	t.Helper()
	f, err := os.Open(r.out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var j struct {
			Seq  int64
			Prev string
			Hash string
		}
		if err := json.Unmarshal(line, &j); err != nil {
			t.Fatalf("rsyslog wrote %q: %v", line, err)
		}
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

	rs.stop()
	emit(20)
	// The forwarder finds the receiver gone: the records wait.
	eventually(t, func() bool { return backlog.Load() >= 20 })

	rs.start()
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

// writeTestPKI writes a test CA and a server certificate for localhost and
// 127.0.0.1 signed by it into dir; it returns the CA file.
func writeTestPKI(t *testing.T, dir string) string {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("server.pem", "CERTIFICATE", srvDER)
	write("server.key", "PRIVATE KEY", keyDER)
	return filepath.Join(dir, "ca.pem")
}
