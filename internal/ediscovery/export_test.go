package ediscovery

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parley/internal/audit"
	"parley/internal/store"
)

// exportAll exports q and returns the job and the zip's bytes.
func exportAll(t *testing.T, s *Service, q Query) (Job, []byte) {
	t.Helper()
	j, err := s.Export(t.Context(), q, "admin-token:t1")
	must(t, err)
	j = waitDone(t, s, j.ID)
	return j, readFile(t, j.File)
}

func lines(t *testing.T, b []byte) []Message {
	t.Helper()
	var out []Message
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m Message
		must(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}

// TestExport: an export of every archive holds the search's messages
// once each, the stored attachment (and names the expired one), an EML
// per conversation and day, and a manifest signed by the audit key that
// Verify accepts; the job is audited from start to end.
func TestExport(t *testing.T) {
	f := newFixture(t)
	f.corpus(t)
	s := f.service(t, Options{PageSize: 3})
	j, zb := exportAll(t, s, Query{})
	files := unzip(t, zb)
	msgs := lines(t, files[MessagesFile])
	p, err := s.Search(t.Context(), Query{}, "", 100, "test")
	must(t, err)
	if got, want := ids(msgs), ids(p.Messages); !slices.Equal(got, want) {
		t.Fatalf("exported %q, want the search's %q", got, want)
	}
	if got := string(files["attachments/AbCdEf123/plan.txt"]); got != "the plan\n" {
		t.Errorf("attachment %q", got)
	}
	pub := f.key.Public().(ed25519.PublicKey)
	rep, err := Verify(bytes.NewReader(zb), int64(len(zb)), pub)
	must(t, err)
	if !rep.OK() {
		t.Fatalf("Verify: %v", rep.Problems)
	}
	man := rep.Manifest
	wantCounts := Counts{Messages: 9, Attachments: 1, AttachmentsMissing: 1, EML: 4}
	if man.Counts != wantCounts || man.Actor != "admin-token:t1" || man.Job != j.ID || man.Server != domain ||
		!slices.Equal(man.MissingAttachments, []string{"https://example.com:5443/upload/Gone12345/old.pdf"}) {
		t.Errorf("manifest %+v", man)
	}
	var names []string
	for _, fl := range man.Files {
		names = append(names, fl.Name)
	}
	if len(names) != 6 || names[0] != MessagesFile || names[1] != "attachments/AbCdEf123/plan.txt" || rep.Files != 6 {
		t.Errorf("manifest files %q, checked %d", names, rep.Files)
	}
	if j.Progress.Messages != 9 || j.Parts != 3 || j.Progress.Phase != "done" {
		t.Errorf("job %+v", j)
	}
	if g1 := msgs[5]; !slices.Equal(g1.AttachmentFiles, []string{"attachments/AbCdEf123/plan.txt"}) {
		t.Errorf("g1's attachment files %q", g1.AttachmentFiles)
	}

	f.log.Close()
	recs, err := audit.Query(t.Context(), f.st, store.AuditQuery{Action: audit.ActionExport, Limit: 10})
	must(t, err)
	var ops []string
	for _, r := range recs {
		if r.Target == "ediscovery-job:"+j.ID && r.Actor == "admin-token:t1" {
			ops = append(ops, r.Details["op"])
		}
	}
	if !slices.Equal(ops, []string{"export-started", "export-finished"}) {
		t.Errorf("audited %q", ops)
	}
}

// TestDelete: an ended export is deleted with its files; an unknown one
// is ErrNoJob; a deletion that cannot be audited does not happen.
func TestDelete(t *testing.T) {
	f := newFixture(t)
	f.corpus(t)
	s := f.service(t, Options{})
	j, _ := exportAll(t, s, Query{Words: "merger"})
	k, _ := exportAll(t, s, Query{})
	must(t, s.Delete(t.Context(), j.ID, "admin-token:t1"))
	if _, err := os.Stat(filepath.Dir(j.File)); !os.IsNotExist(err) {
		t.Errorf("the export's directory is still there: %v", err)
	}
	if _, err := s.Job(j.ID); !errors.Is(err, ErrNoJob) {
		t.Errorf("Job after Delete: %v", err)
	}
	if err := s.Delete(t.Context(), j.ID, "x"); !errors.Is(err, ErrNoJob) {
		t.Errorf("second Delete: %v", err)
	}
	f.log.Close()
	if err := s.Delete(t.Context(), k.ID, "x"); err == nil {
		t.Error("a deletion was done with the audit log closed")
	}
	if _, err := s.Job(k.ID); err != nil {
		t.Errorf("the export whose deletion was refused: %v", err)
	}
}

// TestExportRelated: a search for words finds a message; its correction
// and a retraction are exported with it, marked as related.
func TestExportRelated(t *testing.T) {
	f := newFixture(t)
	f.corpus(t)
	// A message found by its words whose sender later retracted it.
	f.chat(t, "bob", "alice", 10, "m9", "<body>An unwise remark</body>", true)
	f.chat(t, "bob", "alice", 11, "m10", "<retract xmlns='urn:xmpp:message-retract:1' id='m9'/>", true)
	s := f.service(t, Options{})
	_, zb := exportAll(t, s, Query{Words: "noon"})
	msgs := lines(t, unzip(t, zb)[MessagesFile])
	if len(msgs) != 2 || msgs[0].ID != "alice-m3" || msgs[1].ID != "alice-m4" || msgs[1].Related != "correction" ||
		msgs[1].RelatedTo != "alice@example.com/alice-m3" {
		t.Fatalf("exported %+v", msgs)
	}
	_, zb = exportAll(t, s, Query{Words: "unwise"})
	msgs = lines(t, unzip(t, zb)[MessagesFile])
	if len(msgs) != 2 || msgs[0].ID != "bob-m9" || msgs[1].ID != "bob-m10" || msgs[1].Related != "retraction" {
		t.Fatalf("exported %+v", msgs)
	}
}

// TestVerifyTampered: each way of changing an export after it was
// signed is found, and named.
func TestVerifyTampered(t *testing.T) {
	f := newFixture(t)
	f.corpus(t)
	s := f.service(t, Options{})
	_, zb := exportAll(t, s, Query{})
	files := unzip(t, zb)
	var order []string
	for _, fl := range mustVerify(t, zb, f.key).Manifest.Files {
		order = append(order, fl.Name)
	}
	order = append(order, ManifestFile, SignatureFile)
	pub := f.key.Public().(ed25519.PublicKey)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name   string
		change func(files map[string][]byte, order []string) []string
		want   Problem
	}{
		{"edited", func(fs map[string][]byte, o []string) []string {
			fs[MessagesFile] = bytes.Replace(fs[MessagesFile], []byte("confidential"), []byte("public"), 1)
			return o
		}, Problem{Kind: ProblemEdited, File: MessagesFile}},
		{"added", func(fs map[string][]byte, o []string) []string {
			fs["eml/extra.eml"] = []byte("From: x@example.com\r\n\r\nhi\r\n")
			return append(o, "eml/extra.eml")
		}, Problem{Kind: ProblemAdded, File: "eml/extra.eml"}},
		{"removed", func(fs map[string][]byte, o []string) []string {
			return slices.DeleteFunc(o, func(n string) bool { return strings.HasPrefix(n, "attachments/") })
		}, Problem{Kind: ProblemRemoved, File: "attachments/AbCdEf123/plan.txt"}},
		{"manifest rewritten", func(fs map[string][]byte, o []string) []string {
			fs[ManifestFile] = bytes.Replace(fs[ManifestFile], []byte(`"messages": 9`), []byte(`"messages": 8`), 1)
			return o
		}, Problem{Kind: ProblemSignature, File: ManifestFile}},
		{"signed by another key", func(fs map[string][]byte, o []string) []string {
			fs[SignatureFile] = []byte(base64Std(Sign(other, fs[ManifestFile])))
			return o
		}, Problem{Kind: ProblemSignature, File: ManifestFile}},
		{"no signature", func(fs map[string][]byte, o []string) []string {
			return slices.DeleteFunc(o, func(n string) bool { return n == SignatureFile })
		}, Problem{Kind: ProblemSignature, File: SignatureFile}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := map[string][]byte{}
			for k, v := range files {
				fs[k] = slices.Clone(v)
			}
			b := rezip(t, tc.change(fs, slices.Clone(order)), fs)
			rep, err := Verify(bytes.NewReader(b), int64(len(b)), pub)
			must(t, err)
			if len(rep.Problems) != 1 || rep.Problems[0].Kind != tc.want.Kind || rep.Problems[0].File != tc.want.File {
				t.Fatalf("problems %v, want %v", rep.Problems, tc.want)
			}
		})
	}
	// The untouched files, zipped again, still verify.
	if rep := mustVerify(t, rezip(t, order, files), f.key); !rep.OK() {
		t.Fatalf("re-zipped: %v", rep.Problems)
	}
	if _, err := Verify(bytes.NewReader([]byte("not a zip")), 9, pub); err == nil {
		t.Fatal("Verify accepted a file that is not a zip")
	}
}

func mustVerify(t *testing.T, b []byte, key ed25519.PrivateKey) Report {
	t.Helper()
	rep, err := Verify(bytes.NewReader(b), int64(len(b)), key.Public().(ed25519.PublicKey))
	must(t, err)
	return rep
}

// TestExportResume: a job stopped after its second part (the server
// stopping) is taken up by the next service on the same directory: the
// parts written are kept as they are, not written again, and the export
// is the one an uninterrupted job makes.
func TestExportResume(t *testing.T) {
	f := newFixture(t)
	f.corpus(t)
	dir := filepath.Join(f.data, "ediscovery")
	var first *Service
	stopped := make(chan struct{})
	first = f.service(t, Options{Dir: dir, PageSize: 2, AfterPart: func(j Job) {
		if j.Parts == 2 {
			first.cancel() // as Close does, from inside the job
			close(stopped)
		}
	}})
	j, err := first.Export(t.Context(), Query{}, "cli:op")
	must(t, err)
	<-stopped
	first.Close()
	j, err = first.Job(j.ID)
	must(t, err)
	if j.Status != StatusRunning || j.Parts != 2 {
		t.Fatalf("stopped job %+v", j)
	}
	parts := filepath.Join(dir, j.ID, "parts")
	before := map[string]os.FileInfo{}
	for _, n := range []string{partName(1), partName(2)} {
		fi, err := os.Stat(filepath.Join(parts, n))
		must(t, err)
		before[n] = fi
	}
	if _, err := os.Stat(filepath.Join(parts, partName(3))); err == nil {
		t.Fatal("a third part was written after the stop")
	}

	var resumedParts []int
	second := f.service(t, Options{Dir: dir, PageSize: 2, AfterPart: func(j Job) { resumedParts = append(resumedParts, j.Parts) }})
	must(t, second.Resume())
	j = waitDone(t, second, j.ID)
	if j.Progress.Resumed != 1 || !slices.Equal(resumedParts, []int{3, 4, 5}) {
		t.Errorf("resumed job %+v, parts written after the restart %v", j, resumedParts)
	}
	for n, fi := range before {
		now, err := os.Stat(filepath.Join(parts, n))
		must(t, err)
		if !os.SameFile(fi, now) || !now.ModTime().Equal(fi.ModTime()) {
			t.Errorf("part %s was written again", n)
		}
	}
	zb := readFile(t, j.File)
	if rep := mustVerify(t, zb, f.key); !rep.OK() || rep.Manifest.Counts.Messages != 9 {
		t.Fatalf("resumed export: %v %+v", rep.Problems, rep.Manifest.Counts)
	}
	_, whole := exportAll(t, second, Query{})
	if a, b := unzip(t, zb)[MessagesFile], unzip(t, whole)[MessagesFile]; !bytes.Equal(a, b) {
		t.Fatalf("resumed messages differ from an uninterrupted export:\n%s\n%s", a, b)
	}
}

// TestEMLParsedByPython: the EML files parse with Python's email package
// (policy.default, which decodes RFC 2047 words and quoted-printable)
// into the headers and text written, without defects.
func TestEMLParsedByPython(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no /usr/bin/python3 (CI=true: .ci/run installs python3 with python3-slixmpp)")
		}
		t.Skip("no /usr/bin/python3")
	}
	f := newFixture(t)
	f.corpus(t)
	s := f.service(t, Options{})
	_, zb := exportAll(t, s, Query{})
	dir := t.TempDir()
	var paths []string
	for name, b := range unzip(t, zb) {
		if strings.HasPrefix(name, "eml/") {
			p := filepath.Join(dir, filepath.Base(name))
			must(t, os.WriteFile(p, b, 0o600))
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	const script = `
import json, sys
from email import policy
from email.parser import BytesParser
out = []
for p in sys.argv[1:]:
    with open(p, 'rb') as f:
        m = BytesParser(policy=policy.default).parse(f)
    defects = [str(d) for d in m.defects]
    for k in m.keys():
        defects += [k + ': ' + str(d) for d in getattr(m[k], 'defects', ())]
    out.append({'from': str(m['from']), 'to': str(m['to']), 'subject': str(m['subject']),
        'date': m['date'].datetime.isoformat(), 'message_id': str(m['message-id']),
        'type': m.get_content_type(), 'charset': m.get_content_charset(),
        'cte': str(m['content-transfer-encoding']), 'body': m.get_content(), 'defects': defects})
print(json.dumps(out))
`
	out, err := exec.Command("/usr/bin/python3", append([]string{"-c", script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	var got []struct {
		From, To, Subject, Date, Type, Charset, CTE, Body string
		MessageID                                         string `json:"message_id"`
		Defects                                           []string
	}
	must(t, json.Unmarshal(out, &got))
	if len(got) != 4 {
		t.Fatalf("%d EML files parsed, want 4", len(got))
	}
	byPair := map[string]int{}
	for i, g := range got {
		if len(g.Defects) > 0 || g.Type != "text/plain" || g.Charset != "utf-8" || g.CTE != "quoted-printable" ||
			!strings.HasSuffix(g.MessageID, "@example.com>") {
			t.Errorf("EML %d: %+v", i, g)
		}
		byPair[g.Subject] = i
	}
	ab, ok := byPair["Chat alice@example.com, bob@example.com on 2025-03-04 (6 messages)"]
	if !ok {
		t.Fatalf("subjects %v", byPair)
	}
	g := got[ab]
	if g.From != "alice@example.com" || g.To != "bob@example.com" || g.Date != "2025-03-04T09:00:00+00:00" {
		t.Errorf("alice-bob headers %+v", g)
	}
	for _, want := range []string{
		"[2025-03-04T09:00:00Z] alice@example.com/phone: The merger is confidential\n",
		"[2025-03-04T09:02:00Z] alice@example.com/phone: Lunch at the Café at noon?\n",
		"[2025-03-04T09:03:00Z] alice@example.com/phone (correction of m3): Lunch at the Café at one?\n",
		"alice@example.com/phone: (message retracted by its sender at 2025-03-04T09:07:00Z)\n",
		"alice@example.com/phone: (retracts message m6)",
	} {
		if !strings.Contains(g.Body, want) {
			t.Errorf("alice-bob body lacks %q:\n%s", want, g.Body)
		}
	}
	zi, ok := byPair["Chat alice@example.com, zoë@example.com on 2025-03-04 (1 messages)"]
	if !ok {
		t.Fatalf("no EML of zoë's conversation (RFC 2047 subject): %v", byPair)
	}
	if g := got[zi]; g.From != `"zoë@example.com" <xn--zo-ija@example.com>` || !strings.Contains(g.Body, "Grüße aus Zürich — ça va?\n    Second line\n") {
		t.Errorf("zoë's EML %+v", g)
	}
}
