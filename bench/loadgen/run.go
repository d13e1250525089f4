package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"parley/internal/xmpptest"
)

// Config is one run's parameters. Zero fields take the defaults of
// withDefaults.
type Config struct {
	Host       string // loopback name or address
	Port       int
	Domain     string
	UserPrefix string // users are UserPrefix1 .. UserPrefixN
	Password   string
	Users      int
	// Concurrency is how many logins run at once (login, idle).
	Concurrency int
	// Duration bounds the measured part of the run.
	Duration time.Duration
	// Count, when positive, ends the run after this many logins or
	// messages, if that comes before Duration.
	Count     int
	TLS       bool
	Mechanism string
	// Pairs is the number of sender/receiver pairs (chat, latency).
	Pairs int
	// Window is the most messages a pair has in flight.
	Window int
	// Rate is the offered messages/s of the latency workload, all pairs
	// together.
	Rate float64
	// Occupants is the number of sessions in the room (muc), Senders how
	// many of them send; each sender keeps at most Window messages in
	// flight.
	Occupants int
	Senders   int
	// Room is the muc workload's room (default bench@conference.DOMAIN).
	Room string
	// Conns is the number of idle connections.
	Conns int
	// Sources are local 127.0.0.x addresses to dial from, in turn, when
	// one address has too few ephemeral ports.
	Sources []string
	// Settle is how long idle connections rest before RSS is read.
	Settle time.Duration
	// Release, if not nil, ends the idle rest early when it receives (the
	// generator's SIGUSR1): a script holding sessions from several
	// generators reads the server while all of them rest, then releases
	// them to ping.
	Release <-chan os.Signal
	// Timeout bounds each login.
	Timeout time.Duration
	// PID is the server's process, read in /proc for CPU time and RSS.
	PID int
	// PprofURL is the server's net/http/pprof base URL (loopback); with
	// ProfilePrefix it makes the run save PREFIX.cpu.pprof for the
	// measured window and PREFIX.heap.pprof at its end.
	PprofURL      string
	ProfilePrefix string
	// Server is a label for the results ("parley", "ejabberd", ...).
	Server string
	// Progress, if not nil, receives a line now and then.
	Progress io.Writer
}

func (c Config) withDefaults() Config {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	def(&c.Port, 5222)
	if c.Domain == "" {
		c.Domain = "localhost"
	}
	if c.UserPrefix == "" {
		c.UserPrefix = "bench"
	}
	if c.Password == "" {
		c.Password = "bench-password"
	}
	def(&c.Users, 100)
	def(&c.Concurrency, 32)
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Mechanism == "" {
		c.Mechanism = "SCRAM-SHA-1"
	}
	def(&c.Pairs, 25)
	def(&c.Window, 64)
	if c.Rate <= 0 {
		c.Rate = 10000
	}
	def(&c.Occupants, 500)
	def(&c.Senders, 5)
	if c.Room == "" {
		c.Room = "bench@conference." + c.Domain
	}
	def(&c.Conns, 10000)
	if c.Settle <= 0 {
		c.Settle = 3 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return c
}

// Result is what one run measured. Fields that do not apply to a workload
// are zero and left out of the JSON.
type Result struct {
	Workload  string    `json:"workload"`
	Server    string    `json:"server,omitempty"`
	TLS       bool      `json:"tls"`
	Mechanism string    `json:"mechanism"`
	Started   time.Time `json:"started"`
	// Available is false when the server cannot run the workload; Note
	// says why.
	Available bool    `json:"available"`
	Note      string  `json:"note,omitempty"`
	Error     string  `json:"error,omitempty"` // the run ended early; the figures are partial
	Elapsed   float64 `json:"elapsed_s"`       // the measured interval

	Logins       int64   `json:"logins,omitempty"`
	LoginErrors  int64   `json:"login_errors,omitempty"`
	LoginsPerSec float64 `json:"logins_per_s,omitempty"`
	LoginP50     float64 `json:"login_p50_ms,omitempty"`
	LoginP99     float64 `json:"login_p99_ms,omitempty"`

	Pairs       int     `json:"pairs,omitempty"`
	Window      int     `json:"window,omitempty"`
	OfferedRate float64 `json:"offered_rate,omitempty"`
	Sent        uint64  `json:"sent,omitempty"`
	Delivered   uint64  `json:"delivered,omitempty"`
	Lost        uint64  `json:"lost"`
	Duplicated  uint64  `json:"duplicated"`
	OutOfOrder  uint64  `json:"out_of_order,omitempty"`
	MsgsPerSec  float64 `json:"msgs_per_s,omitempty"`
	LatP50      float64 `json:"lat_p50_ms,omitempty"`
	LatP99      float64 `json:"lat_p99_ms,omitempty"`
	LatP999     float64 `json:"lat_p999_ms,omitempty"`
	LatMax      float64 `json:"lat_max_ms,omitempty"`

	Occupants        int     `json:"occupants,omitempty"`
	Senders          int     `json:"senders,omitempty"`
	JoinSecs         float64 `json:"join_s,omitempty"` // all occupants in the room, from the first join
	DeliveriesPerSec float64 `json:"deliveries_per_s,omitempty"`
	// SenderFewest and SenderMost are the fewest and most messages one
	// sender sent (muc): far apart, the server starves some senders.
	SenderFewest uint64 `json:"sender_fewest,omitempty"`
	SenderMost   uint64 `json:"sender_most,omitempty"`

	Conns        int     `json:"conns,omitempty"`
	ConnsAlive   int     `json:"conns_alive,omitempty"`
	RSSBefore    int64   `json:"rss_before,omitempty"`
	RSSAfter     int64   `json:"rss_after,omitempty"`
	BytesPerConn float64 `json:"bytes_per_conn,omitempty"`

	ServerCPU    float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPer float64 `json:"server_cpu_us_per_op,omitempty"` // per delivered message (muc: delivery) or login
	// ServerCPUPerMsg is the muc workload's server CPU per message sent
	// to the room (all its deliveries).
	ServerCPUPerMsg float64 `json:"server_cpu_us_per_msg,omitempty"`
	// ServerWrites is the server's write syscalls over the interval,
	// ServerWritesPerOp per delivered message (muc: delivery); absent
	// where /proc/PID/io cannot be read.
	ServerWrites      int64   `json:"server_writes,omitempty"`
	ServerWritesPerOp float64 `json:"server_writes_per_op,omitempty"`
	GenCPU            float64 `json:"gen_cpu_s,omitempty"`
	GenCPUPer         float64 `json:"gen_cpu_us_per_op,omitempty"`
	ServerRSS         int64   `json:"server_rss,omitempty"` // at the end
	ServerPID         int     `json:"server_pid,omitempty"`
	CPUProfile        string  `json:"cpu_profile,omitempty"`
	HeapProfile       string  `json:"heap_profile,omitempty"`
	ProfileErrors     string  `json:"profile_error,omitempty"`
}

// Workload is one entry of the table.
type Workload struct {
	Name        string
	Description string
	// Run measures; nil means the workload cannot run yet and
	// Unavailable says why (reported as a result, not an error).
	Run         func(ctx context.Context, g *gen) (*Result, error)
	Unavailable string
}

// Workloads is the table of what the generator can do, in the order the
// comparison runs them.
var Workloads = []Workload{
	{Name: "login", Description: "connect, STARTTLS, SASL, bind, presence, close; logins/s and login latency", Run: runLogin},
	{Name: "chat", Description: "sender/receiver pairs as fast as the server takes them (bounded window); msgs/s, latency, loss", Run: runChat},
	{Name: "latency", Description: "the chat pairs at a fixed offered rate (--rate); latency at equal load", Run: runLatency},
	{Name: "idle", Description: "N authenticated idle connections; server RSS per connection", Run: runIdle},
	{Name: "muc", Description: "group chat fan-out (XEP-0045): N occupants in one room, a few senders as fast as the server takes them (bounded window each); deliveries/s to occupants, latency, loss", Run: runMUC},
}

// Lookup finds a workload by name.
func Lookup(name string) (Workload, bool) {
	for _, w := range Workloads {
		if w.Name == name {
			return w, true
		}
	}
	return Workload{}, false
}

// ErrNotLoopback is returned for a target or source that is not loopback.
var ErrNotLoopback = errors.New("loadgen: only loopback addresses may be targeted")

// checkLoopback resolves host and refuses anything but loopback.
func checkLoopback(host string) error {
	addrs, err := net.DefaultResolver.LookupIPAddr(context.Background(), host)
	if err != nil {
		return fmt.Errorf("loadgen: resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("loadgen: %s has no address", host)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return fmt.Errorf("%w: %s is %s", ErrNotLoopback, host, a.IP)
		}
	}
	return nil
}

// gen is the state of one run shared by a workload's goroutines.
type gen struct {
	cfg  Config
	addr string
	keys xmpptest.KeyCache

	mu   sync.Mutex // guards next
	next int        // round-robin index into cfg.Sources
}

func (g *gen) login(user int, resource string, presence bool) Login {
	src := ""
	if len(g.cfg.Sources) > 0 {
		g.mu.Lock()
		src = g.cfg.Sources[g.next%len(g.cfg.Sources)]
		g.next++
		g.mu.Unlock()
	}
	return Login{
		Addr: g.addr, Source: src, Domain: g.cfg.Domain,
		User: g.cfg.UserPrefix + strconv.Itoa(user), Password: g.cfg.Password, Resource: resource,
		TLS: g.cfg.TLS, Mechanism: g.cfg.Mechanism, Presence: presence, Timeout: g.cfg.Timeout, keys: &g.keys,
	}
}

func (g *gen) progress(format string, args ...any) {
	if g.cfg.Progress != nil {
		fmt.Fprintf(g.cfg.Progress, format+"\n", args...)
	}
}

// Run runs the named workload and returns its result. A run that failed
// part way returns a result with Error set and the partial figures; err is
// only for a run that could not start (bad configuration).
func Run(ctx context.Context, name string, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	w, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("loadgen: unknown workload %q", name)
	}
	if err := checkLoopback(cfg.Host); err != nil {
		return nil, err
	}
	for _, s := range cfg.Sources {
		if ip := net.ParseIP(s); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("%w: source %q", ErrNotLoopback, s)
		}
	}
	if cfg.PprofURL != "" {
		u, err := url.Parse(cfg.PprofURL)
		if err != nil {
			return nil, fmt.Errorf("loadgen: --pprof: %w", err)
		}
		if err := checkLoopback(u.Hostname()); err != nil {
			return nil, err
		}
	}
	res := &Result{Workload: name, Server: cfg.Server, TLS: cfg.TLS, Mechanism: cfg.Mechanism, Started: time.Now().UTC(), ServerPID: cfg.PID}
	if w.Run == nil {
		res.Note = w.Unavailable
		return res, nil
	}
	g := &gen{cfg: cfg, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}
	// Every run is bounded: the measured duration, plus time to log in and
	// to drain, whatever the workload does.
	// Idle logins may be slow (tens per second on some servers with TLS):
	// allow 20 ms for each.
	bound := cfg.Duration + 2*time.Minute + cfg.Settle + drainBound
	switch name {
	case "idle":
		bound += time.Duration(cfg.Conns) * 20 * time.Millisecond
	case "muc":
		bound += time.Duration(cfg.Occupants) * 20 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	r, err := w.Run(ctx, g)
	if r == nil {
		r = res
	} else {
		r.Workload, r.Server, r.TLS, r.Mechanism, r.Started, r.ServerPID = res.Workload, res.Server, res.TLS, res.Mechanism, res.Started, res.ServerPID
	}
	r.Available = true
	if err != nil {
		r.Error = err.Error()
	}
	if cfg.PID > 0 {
		if s, err := ReadProc(cfg.PID); err == nil {
			r.ServerRSS = s.RSS
		}
	}
	return r, nil
}

// meter measures the server's and the generator's CPU over an interval,
// and profiles the server for it when asked.
type meter struct {
	g        *gen
	t0       time.Time
	srv0     ProcSample
	srvErr   error
	gen0     time.Duration
	profDone chan error
}

func (g *gen) startMeter(ctx context.Context, window time.Duration) *meter {
	m := &meter{g: g, t0: time.Now(), gen0: selfCPU()}
	if g.cfg.PID > 0 {
		m.srv0, m.srvErr = ReadProc(g.cfg.PID)
	}
	if g.cfg.PprofURL != "" && g.cfg.ProfilePrefix != "" && window > 0 {
		m.profDone = make(chan error, 1)
		secs := max(1, int(window.Round(time.Second)/time.Second))
		go func() {
			m.profDone <- fetch(ctx, g.cfg.PprofURL+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), g.cfg.ProfilePrefix+".cpu.pprof")
		}()
	}
	return m
}

// stop ends the interval: ops is what the server did (messages delivered,
// logins) for the per-operation figures.
func (m *meter) stop(ctx context.Context, r *Result, ops float64) {
	el := time.Since(m.t0)
	r.Elapsed = el.Seconds()
	genCPU := selfCPU() - m.gen0
	r.GenCPU = genCPU.Seconds()
	if ops > 0 {
		r.GenCPUPer = float64(genCPU.Microseconds()) / ops
	}
	if m.g.cfg.PID > 0 && m.srvErr == nil {
		if s, err := ReadProc(m.g.cfg.PID); err == nil {
			cpu := s.CPU - m.srv0.CPU
			r.ServerCPU = cpu.Seconds()
			if ops > 0 {
				r.ServerCPUPer = float64(cpu.Microseconds()) / ops
			}
			if s.Writes >= 0 && m.srv0.Writes >= 0 {
				r.ServerWrites = s.Writes - m.srv0.Writes
				if ops > 0 {
					r.ServerWritesPerOp = float64(r.ServerWrites) / ops
				}
			}
		}
	}
	if m.g.cfg.PprofURL == "" || m.g.cfg.ProfilePrefix == "" {
		return
	}
	var errs []error
	if m.profDone != nil {
		// the CPU profile ends on its own after the window it was given
		select {
		case err := <-m.profDone:
			errs = append(errs, err)
			if err == nil {
				r.CPUProfile = m.g.cfg.ProfilePrefix + ".cpu.pprof"
			}
		case <-time.After(10 * time.Second):
			errs = append(errs, errors.New("CPU profile did not finish"))
		}
	}
	err := fetch(ctx, m.g.cfg.PprofURL+"/debug/pprof/heap", m.g.cfg.ProfilePrefix+".heap.pprof")
	if err == nil {
		r.HeapProfile = m.g.cfg.ProfilePrefix + ".heap.pprof"
	}
	if err := errors.Join(append(errs, err)...); err != nil {
		r.ProfileErrors = err.Error()
	}
}

func fetch(ctx context.Context, u, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
