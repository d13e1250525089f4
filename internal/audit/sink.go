package audit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"parley/internal/config"
	"parley/internal/defaults"
)

// Sink is a receiver of records. The forwarder calls it from one
// goroutine, in seq order.
type Sink interface {
	// Write delivers recs in order or fails; after a failure the
	// forwarder closes the sink and starts again from its durable
	// cursor, so a sink may see records twice but never out of order.
	Write(ctx context.Context, recs []Record) error
	// ConfirmAfter is how long a written record must go without the
	// connection failing before it counts as received: 0 for sinks
	// whose writes are final (a file, after fsync; UDP, which cannot
	// know). Syslog over a stream has no acknowledgements: data written
	// just before the receiver went away may never have been read.
	ConfirmAfter() time.Duration
	// Alive reports whether nothing has shown the receiver gone since
	// the last Write.
	Alive() bool
	Close() error
}

// Defaults of sink options.
const (
	DefaultMaxSize  = 100 << 20
	DefaultKeep     = 5
	DefaultFacility = 13 // log audit (RFC 5424 §6.2.1)
	// maxUDP bounds a datagram: RFC 5426 §3.2 asks receivers for at
	// least 2048 octets over IPv6 and 480 over IPv4; rsyslog and most
	// SIEMs take 8 KiB.
	maxUDP = 8192
	// confirmStream is how long a syslog stream must survive a write for
	// it to count as received.
	confirmStream = 2 * time.Second
	dialTimeout   = 5 * time.Second
	writeTimeout  = 10 * time.Second
)

// NewSink makes the sink c describes; version is the server's, for CEF.
func NewSink(c config.AuditSink, version string) (Sink, error) {
	format := c.Format
	if format == "" {
		format = FormatJSON
	}
	enc := func(r Record) []byte {
		if format == FormatCEF {
			return formatCEF(r, version)
		}
		return formatJSON(r)
	}
	switch c.Type {
	case "file":
		s := &fileSink{path: c.Path, maxSize: c.MaxSize, keep: c.Keep, enc: enc}
		defaults.Positive(&s.maxSize, DefaultMaxSize)
		defaults.Positive(&s.keep, DefaultKeep)
		return s, nil
	case "syslog":
		return newSyslogSink(c, enc)
	}
	return nil, fmt.Errorf("audit: sink %q: unknown type %q", c.Name, c.Type)
}

// fileSink appends lines to a file, rotating it by size.
type fileSink struct {
	path    string
	maxSize int64
	keep    int
	enc     func(Record) []byte
	f       *os.File
	size    int64
}

func (s *fileSink) ConfirmAfter() time.Duration { return 0 }

func (s *fileSink) Alive() bool { return s.f != nil }

func (s *fileSink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	s.f, s.size = f, st.Size()
	return nil
}

// Write appends one line per record and fsyncs before returning.
func (s *fileSink) Write(_ context.Context, recs []Record) error {
	if s.f == nil {
		if err := s.open(); err != nil {
			return fmt.Errorf("audit: file sink: %w", err)
		}
	}
	var buf []byte
	for _, r := range recs {
		line := append(s.enc(r), '\n')
		if s.size+int64(len(buf)+len(line)) > s.maxSize && s.size+int64(len(buf)) > 0 {
			if err := s.flush(buf); err != nil {
				return err
			}
			buf = buf[:0]
			if err := s.rotate(); err != nil {
				return fmt.Errorf("audit: file sink: rotate: %w", err)
			}
		}
		buf = append(buf, line...)
	}
	return s.flush(buf)
}

func (s *fileSink) flush(buf []byte) error {
	if len(buf) > 0 {
		n, err := s.f.Write(buf)
		s.size += int64(n)
		if err != nil {
			return fmt.Errorf("audit: file sink: %w", err)
		}
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: file sink: %w", err)
	}
	return nil
}

// rotate renames path.N to path.N+1 (dropping the oldest), path to path.1,
// and starts an empty path.
func (s *fileSink) rotate() error {
	if err := s.f.Close(); err != nil {
		return err
	}
	s.f = nil
	os.Remove(s.path + "." + strconv.Itoa(s.keep))
	for i := s.keep - 1; i >= 1; i-- {
		err := os.Rename(s.path+"."+strconv.Itoa(i), s.path+"."+strconv.Itoa(i+1))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(s.path, s.path+".1"); err != nil {
		return err
	}
	if err := s.open(); err != nil {
		return err
	}
	// The renames must survive a crash as much as the lines do.
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (s *fileSink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// syslogSink sends RFC 5424 messages over TLS, TCP or UDP.
type syslogSink struct {
	network, address string
	tls              *tls.Config
	header           syslogHeader
	enc              func(Record) []byte

	conn net.Conn
	// dead is closed by the connection's reader when the receiver closes
	// or resets it: syslog receivers never send, so anything but a
	// blocked read means the connection is gone, and the next write
	// would vanish into a closed socket.
	dead chan struct{}
	wg   sync.WaitGroup
}

func newSyslogSink(c config.AuditSink, enc func(Record) []byte) (*syslogSink, error) {
	s := &syslogSink{network: c.Network, address: c.Address, enc: enc,
		header: syslogHeader{facility: c.Facility, hostname: c.Hostname, appName: "parley", procID: strconv.Itoa(os.Getpid())}}
	if s.network == "" {
		s.network = "tls"
	}
	if s.header.facility == 0 {
		s.header.facility = DefaultFacility
	}
	if s.header.hostname == "" {
		s.header.hostname, _ = os.Hostname()
	}
	if s.network == "tls" {
		host, _, _ := net.SplitHostPort(c.Address)
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if c.ServerName != "" {
			cfg.ServerName = c.ServerName
		}
		if c.CA != "" {
			pem, err := os.ReadFile(c.CA)
			if err != nil {
				return nil, fmt.Errorf("audit: sink %q: %w", c.Name, err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("audit: sink %q: no certificate in %s", c.Name, c.CA)
			}
		}
		if c.Cert != "" {
			cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
			if err != nil {
				return nil, fmt.Errorf("audit: sink %q: %w", c.Name, err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		s.tls = cfg
	}
	return s, nil
}

func (s *syslogSink) ConfirmAfter() time.Duration {
	if s.network == "udp" {
		return 0
	}
	return confirmStream
}

func (s *syslogSink) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: dialTimeout}
	var conn net.Conn
	var err error
	switch s.network {
	case "tls":
		td := tls.Dialer{NetDialer: &d, Config: s.tls}
		conn, err = td.DialContext(ctx, "tcp", s.address)
	default:
		conn, err = d.DialContext(ctx, s.network, s.address)
	}
	if err != nil {
		return err
	}
	s.conn, s.dead = conn, make(chan struct{})
	if s.network != "udp" {
		s.wg.Add(1)
		go func(conn net.Conn, dead chan struct{}) {
			defer s.wg.Done()
			io.Copy(io.Discard, conn) //nolint:errcheck // any end means the connection is gone
			close(dead)
		}(conn, s.dead)
	}
	return nil
}

// Write sends every record, one message (and for UDP one datagram) each.
func (s *syslogSink) Write(ctx context.Context, recs []Record) error {
	if s.conn != nil {
		select {
		case <-s.dead:
			s.Close()
			return errors.New("audit: syslog receiver closed the connection")
		default:
		}
	}
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return fmt.Errorf("audit: syslog %s %s: %w", s.network, s.address, err)
		}
	}
	s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if s.network == "udp" {
		for _, r := range recs {
			msg := formatSyslog(s.header, r, s.enc(r))
			if len(msg) > maxUDP {
				msg = msg[:maxUDP]
			}
			if _, err := s.conn.Write(msg); err != nil {
				return fmt.Errorf("audit: syslog udp %s: %w", s.address, err)
			}
		}
		return nil
	}
	var buf []byte
	for _, r := range recs {
		buf = append(buf, frame(formatSyslog(s.header, r, s.enc(r)))...)
	}
	if _, err := s.conn.Write(buf); err != nil {
		return fmt.Errorf("audit: syslog %s %s: %w", s.network, s.address, err)
	}
	return nil
}

// Alive reports whether the connection has not been seen to fail.
func (s *syslogSink) Alive() bool {
	if s.conn == nil {
		return false
	}
	select {
	case <-s.dead:
		return false
	default:
		return true
	}
}

func (s *syslogSink) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	s.wg.Wait()
	return err
}
