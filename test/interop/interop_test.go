package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// python is Debian's interpreter: its dist-packages (python3-slixmpp) are
// not visible to a pyenv python3 earlier on PATH.
const python = "/usr/bin/python3"

const password = "interop pass 1"

// require skips the test when a tool is missing, except under CI=true,
// where a missing tool is a failure: CI installs everything (.ci/run).
func require(t *testing.T, pkg string, check func() error) {
	t.Helper()
	if err := check(); err != nil {
		msg := "SKIP: " + pkg + " not installed (apt-get install " + pkg + "): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(strings.Replace(msg, "SKIP:", "CI=true and", 1))
		}
		t.Skip(msg)
	}
}

func requireSlixmpp(t *testing.T) {
	require(t, "python3-slixmpp", func() error {
		out, err := exec.Command(python, "-c", "import slixmpp").CombinedOutput()
		if err != nil {
			return errors.New(strings.TrimSpace(string(out)) + " " + err.Error())
		}
		return nil
	})
}

func requireSendxmpp(t *testing.T) string {
	var path string
	require(t, "go-sendxmpp", func() error {
		var err error
		path, err = exec.LookPath("go-sendxmpp")
		return err
	})
	return path
}

// startLines starts cmd and returns its standard output line by line; the
// channel is closed when the output ends.
func startLines(t *testing.T, cmd *exec.Cmd) <-chan string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	return lines
}

func hostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return addr[:i], addr[i+1:]
}

// runScript runs a slixmpp script with args and fails the test unless it
// exits 0 saying PASS; it returns what the script printed.
func runScript(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, append([]string{script}, args...)...).CombinedOutput()
	t.Logf("%s:\n%s", script, out)
	if err != nil {
		t.Fatalf("%s failed (%v):\n%s", script, err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("%s exited 0 without PASS:\n%s", script, out)
	}
	return out
}

// startPair starts a server, configured as testserver.Start says, with
// the accounts alice and bob, for a script with two users.
func startPair(t *testing.T, configure func(*config.Config)) *testserver.Server {
	t.Helper()
	requireSlixmpp(t)
	srv := testserver.Start(t, configure)
	srv.AddUsers(t, password, "alice", "bob")
	return srv
}

// runPair runs a script with two users against srv: host, port, alice's
// and bob's accounts, then extra.
func runPair(t *testing.T, srv *testserver.Server, script string, extra ...string) []byte {
	t.Helper()
	host, port := hostPort(t, srv.C2S())
	return runScript(t, script, append([]string{host, port, "alice@localhost", password, "bob@localhost", password}, extra...)...)
}

// runSlixmpp runs a script with two users against a server of its own.
func runSlixmpp(t *testing.T, script string, extra ...string) {
	t.Helper()
	runPair(t, startPair(t, nil), script, extra...)
}

// complianceAPI returns a GET of the admin API of srv (its HTTPS
// listener on) with a compliance token, decoding a 200 answer's JSON
// into v.
func complianceAPI(t *testing.T, srv *testserver.Server) func(path string, v any) error {
	t.Helper()
	ops := &control.Ops{Domain: srv.Router().Domain(), Users: srv.Store(), Tokens: srv.Store()}
	token, _, err := ops.CreateToken(t.Context(), control.RoleCompliance, "interop", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	hc := srv.HTTPSClient(t)
	return func(path string, v any) error {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://"+srv.HTTPS()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
}

// complianceItems polls the admin API's list at path with get (from
// complianceAPI) until it holds n items, and returns them.
func complianceItems[T any](t *testing.T, get func(path string, v any) error, path string, n int) []T {
	t.Helper()
	var page struct {
		Items []T `json:"items"`
	}
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if err := get(path, &page); err != nil {
			return err
		}
		if len(page.Items) != n {
			return fmt.Errorf("GET %s: %d items, want %d: %+v", path, len(page.Items), n, page.Items)
		}
		return nil
	})
	return page.Items
}

// TestSlixmppTwoUsers runs slix_two_users.py: login, subscriptions both
// ways, messages both ways, offline delivery with a delay.
func TestSlixmppTwoUsers(t *testing.T) {
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1"} {
		t.Run(mech, func(t *testing.T) { runSlixmpp(t, "slix_two_users.py", "--mech", mech) })
	}
}

// TestSendxmppToSlixmpp: go-sendxmpp (STARTTLS, then direct TLS) delivers
// a message that a slixmpp client receives.
func TestSendxmppToSlixmpp(t *testing.T) {
	requireSlixmpp(t)
	sendxmpp := requireSendxmpp(t)
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	tests := []struct {
		name  string
		addr  string
		flags []string
	}{
		{"starttls", srv.C2S(), nil},
		{"direct-tls", srv.C2STLS(), []string{"--tls"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			body := "hello from go-sendxmpp " + strconv.Itoa(i)
			host, port := hostPort(t, srv.C2S())
			recv := exec.CommandContext(ctx, python, "slix_receive.py", host, port,
				"bob@localhost", password, "alice@localhost", body, "--timeout", "30")
			var out strings.Builder
			recv.Stderr = &out
			lines := startLines(t, recv)
			waitLine := func(prefix string) string {
				t.Helper()
				timer := time.NewTimer(40 * time.Second)
				defer timer.Stop()
				for {
					select {
					case l, ok := <-lines:
						if !ok {
							recv.Wait()
							t.Fatalf("receiver ended before %s; stderr:\n%s", prefix, out.String())
						}
						out.WriteString(l + "\n")
						if strings.HasPrefix(l, prefix) || strings.HasPrefix(l, "FAIL") {
							return l
						}
					case <-timer.C:
						t.Fatalf("no %s from the receiver in time:\n%s", prefix, out.String())
					}
				}
			}
			if l := waitLine("READY"); l != "READY" {
				recv.Wait()
				t.Fatalf("receiver: %s\n%s", l, out.String())
			}
			args := append([]string{"--username", "alice@localhost", "--password", password,
				"--jserver", tc.addr, "--no-tls-verify", "--timeout", "20"}, tc.flags...)
			send := exec.CommandContext(ctx, sendxmpp, append(args, "bob@localhost")...)
			send.Stdin = strings.NewReader(body + "\n")
			send.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user config file
			if sout, err := send.CombinedOutput(); err != nil {
				t.Fatalf("go-sendxmpp %v failed (%v):\n%s", tc.flags, err, sout)
			}
			l := waitLine("PASS")
			go func() {
				for range lines { // let the reader finish
				}
			}()
			if err := recv.Wait(); err != nil || !strings.HasPrefix(l, "PASS") {
				t.Fatalf("receiver: %s (%v)\n%s", l, err, out.String())
			}
		})
	}
}
