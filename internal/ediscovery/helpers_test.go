package ediscovery

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/upload"
	"parley/internal/xmpptest"
)

const domain = "example.com"

var t0 = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

// fixture is a real SQLite store with archives as mam and muc write
// them, a real audit log and an upload directory.
type fixture struct {
	st    *sqlite.Store
	log   *audit.Log
	key   ed25519.PrivateKey
	data  string
	blobs upload.Dir
}

// openStore opens a store in a new data directory, closed when the test
// ends, and returns it with the directory.
func openStore(tb testing.TB) (*sqlite.Store, string) {
	tb.Helper()
	data := tb.TempDir()
	st, err := sqlite.Open(tb.Context(), filepath.Join(data, "parley.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, data
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, data := openStore(t)
	key, err := audit.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(t.Context(), audit.Options{Store: st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f := &fixture{st: st, log: l, key: key, data: data, blobs: upload.Dir(filepath.Join(data, "uploads"))}
	ctx := t.Context()
	for _, u := range []string{"alice", "bob", "carol", "zoë"} {
		must(t, st.CreateUser(ctx, store.User{Username: u, Created: t0}))
	}
	must(t, st.PutRoom(ctx, store.Room{JID: "ops@conference.example.com", Config: []byte("{}"), Created: t0}))
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) service(t *testing.T, o Options) *Service {
	o.Store, o.Domain, o.Blobs, o.Key, o.Audit = f.st, domain, f.blobs, f.key, f.log
	if o.Dir == "" {
		o.Dir = filepath.Join(f.data, "ediscovery")
	}
	s := New(o)
	t.Cleanup(s.Close)
	return s
}

// chat archives a 1:1 message as mam does: the sender's copy (stanza-id
// by the sender) and, when the recipient archives too, theirs.
func (f *fixture) chat(t *testing.T, from, to string, min int, id, payload string, both bool) {
	t.Helper()
	at := t0.Add(time.Duration(min) * time.Minute)
	stanza := func(by string) []byte {
		return []byte(fmt.Sprintf(`<message xmlns='jabber:client' from='%s@example.com/phone' to='%s@example.com' type='chat' id='%s'>%s<stanza-id xmlns='urn:xmpp:sid:0' id='%s-%s' by='%s@example.com'/></message>`,
			from, to, id, payload, by, id, by))
	}
	text := between(payload, "<body>", "</body>")
	msgs := []store.ArchivedMessage{{Owner: from, ID: from + "-" + id, With: to + "@example.com", Stamp: at, Stanza: stanza(from), Text: text}}
	if both {
		msgs = append(msgs, store.ArchivedMessage{Owner: to, ID: to + "-" + id, With: from + "@example.com",
			Stamp: at.Add(time.Millisecond), Stanza: stanza(to), Text: text})
	}
	must(t, f.st.AppendArchive(t.Context(), msgs))
}

// groupchat archives a room message as muc does.
func (f *fixture) groupchat(t *testing.T, nick string, min int, id, body string) {
	t.Helper()
	room := "ops@conference.example.com"
	st := fmt.Sprintf(`<message xmlns='jabber:client' from='%s/%s' type='groupchat' id='%s'><body>%s</body><stanza-id xmlns='urn:xmpp:sid:0' id='r-%s' by='%s'/></message>`,
		room, nick, id, body, id, room)
	must(t, f.st.AppendArchive(t.Context(), []store.ArchivedMessage{{Owner: room, ID: "r-" + id, With: room + "/" + nick,
		Stamp: t0.Add(time.Duration(min) * time.Minute), Stanza: []byte(st), Text: body}}))
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

// storeUpload keeps a file as the upload service does and returns its URL.
func (f *fixture) storeUpload(t *testing.T, id, name, content string) string {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	must(t, f.st.ReserveUpload(ctx, store.Upload{ID: id, Owner: "alice", Name: name, Size: int64(len(content)),
		ContentType: "text/plain", Created: now, Expires: now.Add(time.Hour)}))
	must(t, f.st.ClaimUpload(ctx, id, now, now.Add(time.Hour)))
	must(t, f.blobs.Put(id, strings.NewReader(content), int64(len(content))))
	must(t, f.st.FinishUpload(ctx, id, now, now.Add(24*time.Hour)))
	return "https://example.com:5443/upload/" + id + "/" + name
}

// corpus is the story most tests search: alice and bob discuss a merger
// (both archive), alice corrects herself and retracts a message, carol
// (who does not archive) writes to alice, and the ops room shares a file.
func (f *fixture) corpus(t *testing.T) {
	t.Helper()
	url := f.storeUpload(t, "AbCdEf123", "plan.txt", "the plan\n")
	gone := "https://example.com:5443/upload/Gone12345/old.pdf"
	f.chat(t, "alice", "bob", 0, "m1", "<body>The merger is confidential</body><thread>t-1</thread>", true)
	f.chat(t, "bob", "alice", 1, "m2", "<body>Understood, the merger stays quiet</body><thread>t-1</thread>", true)
	f.chat(t, "alice", "bob", 2, "m3", "<body>Lunch at the Café at noon?</body>", true)
	f.chat(t, "alice", "bob", 3, "m4", "<body>Lunch at the Café at one?</body><replace xmlns='urn:xmpp:message-correct:0' id='m3'/>", true)
	f.chat(t, "carol", "alice", 4, "m5", "<body>Hello Alice, about the merger</body>", true)
	must(t, f.st.DeleteArchive(t.Context(), "carol")) // carol keeps nothing: alice's copy is the only one
	f.groupchat(t, "dave", 5, "g1", "Deploy plan for the merger: "+url+" and "+gone)
	f.chat(t, "zoë", "alice", 5, "m8", "<body>Grüße aus Zürich — ça va?\nSecond line</body>", true)
	f.chat(t, "alice", "bob", 6, "m6", "<body>Delete this</body>", true)
	f.chat(t, "alice", "bob", 7, "m7", "<retract xmlns='urn:xmpp:message-retract:1' id='m6'/><fallback xmlns='urn:xmpp:fallback:0'/><body>This person attempted to retract a previous message</body>", true)
	for _, owner := range []string{"alice", "bob"} {
		tomb := fmt.Sprintf(`<message xmlns='jabber:client' from='alice@example.com/phone' to='bob@example.com' type='chat' id='m6'><stanza-id xmlns='urn:xmpp:sid:0' id='%s-m6' by='%s@example.com'/><retracted xmlns='urn:xmpp:message-retract:1' stamp='2025-03-04T09:07:00Z'/></message>`, owner, owner)
		must(t, f.st.RetractArchived(t.Context(), owner, owner+"-m6", []byte(tomb)))
	}
}

// waitDone waits for an export job to end and fails unless it is done.
func waitDone(t *testing.T, s *Service, id string) Job {
	t.Helper()
	var j Job
	xmpptest.Eventually(t, 20*time.Second, func() error {
		var err error
		if j, err = s.Job(id); err != nil {
			return err
		}
		if j.Status == StatusRunning {
			return fmt.Errorf("job %s: %+v", j.Status, j.Progress)
		}
		return nil
	})
	if j.Status != StatusDone {
		t.Fatalf("job %s: %s", j.Status, j.Error)
	}
	return j
}

// unzip returns the files of a zip by name.
func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	must(t, err)
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		data, err := io.ReadAll(rc)
		rc.Close()
		must(t, err)
		out[f.Name] = data
	}
	return out
}

// rezip writes files (in the given order) as a zip, for tampering.
func rezip(t *testing.T, names []string, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		must(t, err)
		_, err = w.Write(files[n])
		must(t, err)
	}
	must(t, zw.Close())
	return b.Bytes()
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return b
}

var _ = context.Background

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
