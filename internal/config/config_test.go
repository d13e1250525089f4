package config

import (
	"encoding"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

func noEnv(string) string { return "" }

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "parley.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// secretFile writes the password "s3cret" to a file, newline-terminated
// as an editor leaves it, and returns the file's path.
func secretFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	tests := []struct {
		body    string
		check   func(Config) bool
		wantErr []string // substrings of the error, all required
	}{
		0: {body: "", check: func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		1: {
			body: "domain = \"example.com\"\n[listen]\nc2s = \"off\"\n",
			check: func(c Config) bool {
				// Keys the file leaves out keep their defaults.
				return c.Domain == "example.com" && c.Listen.C2S == "off" && c.Listen.C2STLS == ":5223"
			},
		},
		2: {
			body: "[limits]\nidle_timeout = \"90s\"\nkeepalive = \"1m\"\n",
			check: func(c Config) bool {
				return c.Limits.IdleTimeout.Duration == 90*time.Second && c.Limits.Keepalive.Duration == time.Minute
			},
		},
		3: {body: "domain = \"x\"\n\n[listen]\nc2ss = \":1\"\n", wantErr: []string{"parley.toml:4:", "listen.c2ss", "unknown key"}},
		4: {body: "domian = \"x\"\n[limits]\nmax_stanzas = 1\n", wantErr: []string{":1: domian: unknown key", ":3: limits.max_stanzas: unknown key"}},
		5: {body: "[limits]\nidle_timeout = \"soon\"\n", wantErr: []string{":2:", "\"soon\" is not a duration"}},
		6: {body: "[limits]\nmax_depth = \"deep\"\n", wantErr: []string{":2:"}},
		7: {body: "domain = \n", wantErr: []string{":1"}},
		8: {body: "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nallow_plaintext = true\n[register]\nenabled = true\n",
			check: func(c Config) bool {
				return slices.Equal(c.TrustedProxies, []string{"10.0.0.0/8", "::1"}) && c.AllowPlaintext && c.Register.Enabled
			}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := load(writeFile(t, tc.body), noEnv)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Errorf("error %v is not a *FileError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	c, err := load("", noEnv)
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Fatalf(`load("") = %+v, %v; want defaults`, c, err)
	}
	missing := filepath.Join(t.TempDir(), "nope.toml")
	if _, err := load(missing, noEnv); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("load(missing) error = %v, want does not exist", err)
	}
}

func TestLoadEnv(t *testing.T) {
	env := map[string]string{EnvData: "/srv/parley", EnvDomain: "env.example", EnvLogLevel: "debug"}
	p := writeFile(t, "domain = \"file.example\"\ndata = \"/file\"\nstore = \"postgres://db/x\"\n")
	c, err := load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	// Environment wins over the file; unset variables leave the file's value.
	if c.Domain != "env.example" || c.Data != "/srv/parley" || c.LogLevel != "debug" || c.Store != "postgres://db/x" {
		t.Errorf("got %+v", c)
	}
}

func TestValidate(t *testing.T) {
	checkValidate(t, []validateCase{
		0:  {mod: func(*Config) {}},
		1:  {mod: func(c *Config) { c.Domain = "" }, want: []string{"domain: must not be empty"}},
		2:  {mod: func(c *Config) { c.Domain = "user@example.com" }, want: []string{`domain: "user@example.com" is not a valid XMPP domain`}},
		3:  {mod: func(c *Config) { c.Domain = "Example.COM" }, want: []string{`domain: "Example.COM" is not in canonical form; write "example.com"`}},
		4:  {mod: func(c *Config) { c.Data = "" }, want: []string{"data: must not be empty"}},
		5:  {mod: func(c *Config) { c.Store = "postgres://u@db.internal/parley" }},
		6:  {mod: func(c *Config) { c.Store = "mysql://secret@h/db" }, want: []string{"store: is neither empty"}},
		7:  {mod: func(c *Config) { c.Cert = "a.pem" }, want: []string{"cert: cert and key must be given together"}},
		8:  {mod: func(c *Config) { c.Cert, c.Key = "a.pem", "a.key" }},
		9:  {mod: func(c *Config) { c.LogLevel = "loud" }, want: []string{`log_level: "loud"`}},
		10: {mod: func(c *Config) { c.LogLevel = "WARN" }},
		11: {mod: func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "fd00::/8", "192.0.2.1", "2001:db8::1"} }},
		12: {mod: func(c *Config) { c.TrustedProxies = []string{"10.0.0.1", "10.0.0.300", "10/8"} },
			want: []string{`trusted_proxies[1]: "10.0.0.300"`, `trusted_proxies[2]: "10/8"`}},
		13: {mod: func(c *Config) { c.Listen.C2S = "x:y:z" }, want: []string{`listen.c2s: "x:y:z" is not a host:port or "off"`}},
		14: {mod: func(c *Config) { c.Listen.HTTP = "127.0.0.1:99999" }, want: []string{`listen.http: "127.0.0.1:99999" is not a host:port`}},
		15: {mod: func(c *Config) { c.Listen.C2STLS = "5223" }, want: []string{`listen.c2s_tls: "5223" is not a host:port`}},
		16: {mod: func(c *Config) { c.Listen.HTTP = ":5222" }, want: []string{`listen.http: ":5222" is already used by listen.c2s`}},
		17: {mod: func(c *Config) { c.Listen = Listen{C2S: "127.0.0.1:0", C2STLS: "127.0.0.1:0", HTTP: "127.0.0.1:0"} }},
		18: {mod: func(c *Config) { c.Listen = Listen{C2S: Off, C2STLS: Off, HTTP: Off} }, want: []string{"listen: every listener is off"}},
		// allow_plaintext: only loopback plaintext listeners.
		19: {mod: func(c *Config) { c.AllowPlaintext = true },
			want: []string{`allow_plaintext: is true but listen.c2s ":5222" is not a loopback`, `allow_plaintext: is true but listen.http ":5280" is not a loopback`}},
		20: {mod: func(c *Config) {
			c.AllowPlaintext = true
			c.Listen = Listen{C2S: "127.0.0.1:5222", C2STLS: ":5223", HTTP: "[::1]:5280"}
		}},
		21: {mod: func(c *Config) {
			c.AllowPlaintext = true
			c.Listen = Listen{C2S: "localhost:5222", C2STLS: Off, HTTP: Off}
		}},
		22: {mod: func(c *Config) {
			c.AllowPlaintext = true
			c.Listen = Listen{C2S: "0.0.0.0:5222", C2STLS: Off, HTTP: "127.0.0.1:5280"}
		}, want: []string{`allow_plaintext: is true but listen.c2s "0.0.0.0:5222"`}},
		23: {mod: func(c *Config) {
			c.AllowPlaintext = true
			c.Listen = Listen{C2S: Off, C2STLS: "127.0.0.1:5223", HTTP: "192.0.2.7:5280"}
		}, want: []string{`allow_plaintext: is true but listen.http "192.0.2.7:5280"`}},
		// limits
		24: {mod: func(c *Config) { c.Limits.MaxStanza = 9999 }, want: []string{"limits.max_stanza: 9999 is below the minimum 10000"}},
		25: {mod: func(c *Config) { c.Limits.MaxDepth = 3 }, want: []string{"limits.max_depth: 3"}},
		26: {mod: func(c *Config) { c.Limits.MaxConnectionsPerIP = 0 }, want: []string{"limits.max_connections_per_ip: 0"}},
		27: {mod: func(c *Config) { c.Limits.AuthFailuresBeforeBackoff = 0 }, want: []string{"limits.auth_failures_before_backoff: 0"}},
		28: {mod: func(c *Config) { c.Limits.OfflineMax = -1 }, want: []string{"limits.offline_max: -1"}},
		29: {mod: func(c *Config) { c.Limits.OfflineMax = 0 }},
		30: {mod: func(c *Config) { c.Limits.StanzaRate = 0 }, want: []string{"limits.stanza_rate: 0 must be positive"}},
		31: {mod: func(c *Config) { c.Limits.StanzaBurst = 0 }, want: []string{"limits.stanza_burst: 0"}},
		32: {mod: func(c *Config) { c.Limits.AuthTimeout = Duration{} }, want: []string{"limits.auth_timeout: 0s must be positive"}},
		33: {mod: func(c *Config) { c.Limits.AuthBackoffMax = Duration{-time.Second} }, want: []string{"limits.auth_backoff_max: -1s must be positive"}},
		34: {mod: func(c *Config) { c.Limits.IdleTimeout = Duration{} }, want: []string{"limits.idle_timeout: 0s must be positive"}},
		35: {mod: func(c *Config) { c.Limits.Keepalive = Duration{5 * time.Minute} }, want: []string{"limits.keepalive: 5m0s must be shorter than limits.idle_timeout 5m0s"}},
		// Every problem is reported, not only the first.
		36: {mod: func(c *Config) {
			c.Domain, c.Listen.C2S, c.Limits.MaxDepth, c.LogLevel = "", "nope", 0, "x"
		}, want: []string{"domain:", "listen.c2s:", "limits.max_depth:", "log_level:"}},
		37: {mod: func(c *Config) { c.Archive.Default = "sometimes" }, want: []string{`archive.default: "sometimes" is not always, roster or never`}},
		38: {mod: func(c *Config) { c.Archive.Default = "roster" }},
		39: {mod: func(c *Config) { c.Limits.ResumeTimeout = Duration{} }, want: []string{"limits.resume_timeout: 0s must be positive"}},
		40: {mod: func(c *Config) { c.Limits.CSIContacts = 0 }, want: []string{"limits.csi_contacts: 0 is below the minimum 1"}},
	})
}

// validateCase is one row of a Validate table: mod changes a Default
// config, want are the problems Validate then reports.
type validateCase struct {
	mod  func(*Config)
	want []string // each a substring of one reported problem; nil = valid
}

// checkValidate runs a Validate table, one subtest per row.
func checkValidate(t *testing.T, cases []validateCase) {
	t.Helper()
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := Default()
			tc.mod(&c)
			wantProblems(t, c.Validate(), tc.want)
		})
	}
}

// wantProblems checks a Validate error: nil when want is empty, else
// exactly len(want) problems, each a *KeyError naming its key, one
// containing each of want. Every Validate table uses it.
func wantProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate() = nil, want %q", want)
	}
	problems := unjoin(err)
	if len(problems) != len(want) {
		t.Errorf("got %d problems %q, want %d", len(problems), problems, len(want))
	}
	for _, w := range want {
		if !slices.ContainsFunc(problems, func(p error) bool { return strings.Contains(p.Error(), w) }) {
			t.Errorf("no problem contains %q; got %q", w, problems)
		}
	}
	for _, p := range problems {
		var ke *KeyError
		if !errors.As(p, &ke) || ke.Key == "" {
			t.Errorf("problem %v is not a *KeyError with a key", p)
		}
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestStoreErrorHidesPassword(t *testing.T) {
	c := Default()
	c.Store = "mysql://admin:hunter2@db/x"
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Validate() = %v; want an error without the password", err)
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		0:  {"127.0.0.1:5222", true},
		1:  {"127.8.9.10:1", true},
		2:  {"[::1]:5222", true},
		3:  {"localhost:5222", true},
		4:  {"LocalHost:5222", true},
		5:  {"[::ffff:127.0.0.1]:5222", true},
		6:  {"127.0.0.1", true},
		7:  {":5222", false},
		8:  {"0.0.0.0:5222", false},
		9:  {"[::]:5222", false},
		10: {"192.0.2.1:5222", false},
		11: {"example.com:5222", false},
		12: {"localhost.example.com:5222", false},
		13: {"off", false},
		14: {"", false},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := IsLoopback(tc.addr); got != tc.want {
				t.Errorf("IsLoopback(%q) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}

func TestRegisterFlagsOverrideOnlyWhenSet(t *testing.T) {
	c, err := load(writeFile(t, "domain = \"file.example\"\ndata = \"/file\"\n[listen]\nhttp = \"off\"\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"--data", "/flag", "--c2s", "127.0.0.1:1", "--allow-plaintext"}); err != nil {
		t.Fatal(err)
	}
	if c.Domain != "file.example" || c.Data != "/flag" || c.Listen.C2S != "127.0.0.1:1" || c.Listen.HTTP != "off" || !c.AllowPlaintext {
		t.Errorf("got %+v", c)
	}
}

func TestFromArgs(t *testing.T) {
	file := writeFile(t, "domain = \"file.example\"\ndata = \"/file\"\nlog_level = \"warn\"\n")
	env := map[string]string{EnvDomain: "env.example"}
	tests := []struct {
		args    []string
		env     map[string]string
		domain  string
		data    string
		level   string
		pos     []string
		wantErr string
	}{
		0: {args: nil, domain: "localhost", data: "./data", level: "info"},
		1: {args: []string{"--config", file}, domain: "file.example", data: "/file", level: "warn"},
		2: {args: []string{"--config", file}, env: env, domain: "env.example", data: "/file", level: "warn"},
		3: {args: []string{"--config", file, "--domain", "flag.example"}, env: env, domain: "flag.example", data: "/file", level: "warn"},
		4: {args: []string{"add", "alice", "--data", "/d", "x"}, domain: "localhost", data: "/d", level: "info", pos: []string{"add", "alice", "x"}},
		5: {args: []string{"--data=/d", "--", "--domain", "y"}, domain: "localhost", data: "/d", level: "info", pos: []string{"--domain", "y"}},
		6: {args: nil, env: map[string]string{EnvConfig: file}, domain: "file.example", data: "/file", level: "warn"},
		7: {args: []string{"--bogus"}, wantErr: "flag provided but not defined"},
		8: {args: []string{"--config", file + ".missing"}, wantErr: "does not exist"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			c, pos, err := fromArgs(fs, tc.args, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Domain != tc.domain || c.Data != tc.data || c.LogLevel != tc.level || !slices.Equal(pos, tc.pos) {
				t.Errorf("got domain=%q data=%q level=%q pos=%q", c.Domain, c.Data, c.LogLevel, pos)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	c := Default()
	c.Data = "/var/lib/parley"
	if got := c.SQLitePath(); got != "/var/lib/parley/parley.db" {
		t.Errorf("SQLitePath() = %q", got)
	}
	c.TrustedProxies = []string{"10.1.2.3/8", "::1", "bad"}
	got := c.TrustedProxyPrefixes()
	if len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "::1/128" {
		t.Errorf("TrustedProxyPrefixes() = %v", got)
	}
	c.LogLevel = "debug"
	if c.SlogLevel().String() != "DEBUG" {
		t.Errorf("SlogLevel() = %v", c.SlogLevel())
	}
}

// TestExampleFile keeps parley.example.toml honest: it loads, validates,
// and mentions every key the Config struct has.
func TestExampleFile(t *testing.T) {
	path := filepath.Join("..", "..", "parley.example.toml")
	c, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("example does not validate: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	flatten("", doc, have)
	for _, k := range tomlKeys("", reflect.TypeFor[Config]()) {
		if !have[k] {
			t.Errorf("parley.example.toml does not set %s", k)
		}
	}
}

func flatten(prefix string, m map[string]any, out map[string]bool) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			out[prefix+k] = true // a map-valued key ([s2s.routes]) is a table
			flatten(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = true
	}
}

func tomlKeys(prefix string, t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name := f.Tag.Get("toml")
		// A struct that reads itself from text (Duration, Period) is one key.
		if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
			keys = append(keys, tomlKeys(prefix+name+".", f.Type)...)
			continue
		}
		keys = append(keys, prefix+name)
	}
	return keys
}
