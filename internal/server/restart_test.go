package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// Restart durability (issue 5): every message the server acknowledged
// (XEP-0198 <a h/>) before `parley serve` is killed with SIGKILL is in
// the archive when it starts again on the same data directory: the
// sender's and the recipient's archives for a chat, and the room's
// archive for a groupchat in a persistent room.

const (
	restartWait   = 15 * time.Second
	restartPass   = "restart pass 1"
	restartRoom   = "durable@conference.localhost"
	nsSM          = "urn:xmpp:sm:3"
	restartChats  = 400 // chat messages sent in one burst, killed midway
	restartGroups = 20  // groupchat messages, all acknowledged before the burst
)

// parleyBinary builds cmd/parley into a temporary directory.
func parleyBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the binary:", err)
	}
	bin := filepath.Join(t.TempDir(), "parley")
	cmd := exec.Command(goTool, "build", "-o", bin, "parley/cmd/parley")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// parleyCmd runs a short parley command and fails the test on error.
func parleyCmd(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// serveProcess is a running `parley serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	c2s  string // the client listener's address
	done chan struct{}

	mu  sync.Mutex // guards log
	log strings.Builder
}

var listeningC2S = regexp.MustCompile(`msg=listening listener=c2s addr=(\S+)`)

// startServe starts `parley serve` on data with its client listener on a
// kernel-chosen loopback port, and waits until it has started. extra are
// more arguments (e.g. --config FILE).
func startServe(t *testing.T, bin, data string, extra ...string) *serveProcess {
	t.Helper()
	return runServe(t, exec.Command(bin, serveArgs(data, extra...)...))
}

// serveArgs are the arguments of `parley serve` on data with only the
// client listener, on a kernel-chosen loopback port, and extra.
func serveArgs(data string, extra ...string) []string {
	return append([]string{"serve", "--data", data, "--domain", "localhost",
		"--c2s", "127.0.0.1:0", "--c2s-tls", "off", "--http", "off", "--https", "off", "--metrics", "off", "--proxy65", "off", "--s2s", "off"}, extra...)
}

// runServe starts cmd, a `parley serve` with serveArgs, keeps its log,
// and waits for "parley started" (every listener is open then); the
// test's end kills it.
func runServe(t *testing.T, cmd *exec.Cmd) *serveProcess {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("parley serve log:\n%s", p.logText())
		}
	})
	addr := make(chan string, 1)
	go func() {
		var c2s string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listeningC2S.FindStringSubmatch(line); m != nil {
				c2s = m[1]
			}
			if strings.Contains(line, "parley started") {
				select {
				case addr <- c2s:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		close(p.done)
	}()
	select {
	case p.c2s = <-addr:
	case <-p.done:
		t.Fatalf("parley serve exited:\n%s", p.logText())
	case <-time.After(restartWait):
		t.Fatalf("parley serve did not listen:\n%s", p.logText())
	}
	return p
}

func (p *serveProcess) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *serveProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func restartDial(t *testing.T, addr, user string) *xmpptest.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), restartWait)
	defer cancel()
	c, err := xmpptest.Dial(ctx, addr, xmpptest.Options{User: user, Password: restartPass, Resource: "r"})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func isAck(el *xmlstream.Element) bool { return el.Name == "a" && el.Space == nsSM }

// ackCount reads h of an <a/>.
func ackCount(t *testing.T, el *xmlstream.Element) int {
	t.Helper()
	h, err := strconv.Atoi(el.Get("h"))
	if err != nil {
		t.Fatalf("bad ack %s", el)
	}
	return h
}

// archiveBodies pages through an archive (the account's own, or a room's
// when to is the room) and returns every body in archive order.
func archiveBodies(t *testing.T, c *xmpptest.Client, to, with string) []string {
	t.Helper()
	form := ""
	if with != "" {
		form = xmpptest.MAMForm("<field var='with'><value>" + with + "</value></field>")
	}
	var out []string
	after := ""
	for page := 0; ; page++ {
		if page > 50 {
			t.Fatal("archive paging does not end")
		}
		rsm := "<max>100</max>"
		if after != "" {
			rsm += "<after>" + after + "</after>"
		}
		a := xmpptest.MustQueryArchive(t, c, restartWait, to, form+"<set xmlns='"+xmpptest.NSRSM+"'>"+rsm+"</set>")
		out = append(out, a.Bodies()...)
		if a.Complete() {
			return out
		}
		after = a.RSM("last")
	}
}

func TestRestartKeepsAcknowledgedMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := parleyBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	for _, u := range []string{"alice", "bob"} {
		parleyCmd(t, bin, "user", "add", u+"@localhost", "--data", data, "--password", restartPass)
	}
	parleyCmd(t, bin, "room", "create", restartRoom, "--owner", "alice@localhost", "--data", data)

	srv := startServe(t, bin, data)
	alice := restartDial(t, srv.c2s, "alice")
	send(t, alice, "<enable xmlns='"+nsSM+"'/>")
	if _, err := alice.Expect(restartWait, func(el *xmlstream.Element) bool { return el.Name == "enabled" }); err != nil {
		t.Fatalf("stream management: %v", err)
	}
	// Every stanza sent from here on counts in h; sent[i] is the body of
	// the i-th (or "" for the join presence).
	var sent []string

	// A persistent room: join, then groupchat messages, all acknowledged.
	send(t, alice, "<presence to='"+restartRoom+"/alice'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>")
	sent = append(sent, "")
	var groups []string
	for i := range restartGroups {
		b := fmt.Sprintf("groupchat %03d", i)
		groups = append(groups, b)
		send(t, alice, "<message to='"+restartRoom+"' type='groupchat'><body>"+b+"</body></message>")
		sent = append(sent, b)
	}
	send(t, alice, "<r xmlns='"+nsSM+"'/>")
	for {
		a, err := alice.Expect(restartWait, isAck)
		if err != nil {
			t.Fatalf("ack of the groupchat messages: %v", err)
		}
		if ackCount(t, a) == len(sent) {
			break
		}
	}

	// A burst of chat messages to bob (offline), an ack request after
	// every 10; the server is killed once half are acknowledged.
	for i := range restartChats {
		b := fmt.Sprintf("chat %03d", i)
		send(t, alice, "<message to='bob@localhost' type='chat' id='c"+strconv.Itoa(i)+"'><body>"+b+"</body></message>")
		sent = append(sent, b)
		if i%10 == 9 {
			send(t, alice, "<r xmlns='"+nsSM+"'/>")
		}
	}
	acked := 0
	for acked < restartGroups+1+restartChats/2 {
		a, err := alice.Expect(restartWait, isAck)
		if err != nil {
			t.Fatalf("acks (%d so far): %v", acked, err)
		}
		acked = max(acked, ackCount(t, a))
	}
	srv.kill()
	// The stream may hold acks that were already on their way.
	for {
		a, err := alice.Expect(100*time.Millisecond, isAck)
		if err != nil {
			break
		}
		acked = max(acked, ackCount(t, a))
	}
	wantChats := sent[restartGroups+1 : acked]
	t.Logf("%d of %d chat messages acknowledged before SIGKILL", len(wantChats), restartChats)

	srv = startServe(t, bin, data)
	alice = restartDial(t, srv.c2s, "alice")
	bob := restartDial(t, srv.c2s, "bob")
	checkPrefix := func(who string, got, want []string) {
		t.Helper()
		if len(got) < len(want) {
			t.Fatalf("%s: %d archived, %d acknowledged", who, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: archived[%d] = %q, want %q", who, i, got[i], want[i])
			}
		}
		// Unacknowledged messages may be there too, in order, never
		// anything that was not sent.
		for i, b := range got[len(want):] {
			if next := fmt.Sprintf("chat %03d", len(want)+i); b != next {
				t.Fatalf("%s: archived[%d] = %q, want %q", who, len(want)+i, b, next)
			}
		}
	}
	checkPrefix("alice", archiveBodies(t, alice, "", "bob@localhost"), wantChats)
	checkPrefix("bob", archiveBodies(t, bob, "", "alice@localhost"), wantChats)
	// The room's archive is read by a member (the owner), not joined.
	if got := archiveBodies(t, alice, restartRoom, ""); strings.Join(got, "|") != strings.Join(groups, "|") {
		t.Fatalf("room archive %q, want %q", got, groups)
	}
}
