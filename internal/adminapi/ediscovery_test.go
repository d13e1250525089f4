package adminapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/control"
	"parley/internal/ediscovery"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

// TestEdiscovery archives a conversation over real connections (a
// message sharing an uploaded file, its correction, a reply, a message
// retracted under a legal hold), then a
// compliance officer searches it through the API (the message once, with
// the other party's copy), exports it, downloads the zip and verifies it
// against its signed manifest; the zip with a changed message does not
// verify. Every other role but admin gets 403 on every e-discovery
// route, and the searches and the export are in the audit log under the
// compliance token.
func TestEdiscovery(t *testing.T) {
	e := start(t)
	ctx := t.Context()
	for _, u := range []string{"alice", "bob"} {
		e.srv.AddUser(t, u, "pw-"+u)
		if err := e.srv.Store().SetArchivePrefs(ctx, u, store.ArchivePrefs{Default: store.ArchiveAlways}); err != nil {
			t.Fatal(err)
		}
	}
	// A legal hold on alice keeps the originals of what she retracts.
	if _, err := e.srv.Store().CreateHold(ctx, store.LegalHold{Name: "case 42", CreatedBy: "test", Users: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	alice := e.srv.Online(t, "alice", "pw-alice", "phone")
	bob := e.srv.Online(t, "bob", "pw-bob", "desk")
	file := e.upload(t, alice, "plan.txt", "the merger plan\n")
	say := func(from, to *xmpptest.Client, id, payload, body string) {
		t.Helper()
		if err := from.Send(fmt.Sprintf(`<message to='%s' type='chat' id='%s'><body>%s</body>%s</message>`, to.Bare(), id, body, payload)); err != nil {
			t.Fatal(err)
		}
		if _, err := to.Expect(10*time.Second, xmpptest.MessageBody(body)); err != nil {
			t.Fatalf("%s did not get %q: %v", to.Bare(), body, err)
		}
	}
	say(alice, bob, "m1", "", "The merger plan: "+file)
	say(alice, bob, "m2", "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/>", "The merger plan (final): "+file)
	say(bob, alice, "m3", "", "Understood, I keep it quiet")
	say(alice, bob, "m4", "", "Merger price is 42")
	say(alice, bob, "r1", "<retract xmlns='urn:xmpp:message-retract:1' id='m4'/><fallback xmlns='urn:xmpp:fallback:0'/>",
		"This person attempted to retract a previous message")

	compliance := e.tokens[control.RoleCompliance]
	var tokenID string
	if tl, err := e.srv.Store().ListTokens(ctx); err == nil {
		for _, tk := range tl {
			if tk.Role == control.RoleCompliance {
				tokenID = tk.ID
			}
		}
	}

	// Search: both parties archived m1; it is reported once.
	resp, body := e.do(t, compliance, "GET", "/api/v1/ediscovery/messages?participant=bob@localhost&words=MERGER", "")
	if resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	pg := decode[struct {
		Items []ediscovery.Message `json:"items"`
		Next  string               `json:"next"`
	}](t, body)
	if len(pg.Items) != 3 || pg.Next != "" || pg.Items[0].MessageID != "m1" || pg.Items[0].Archive != "alice@localhost" ||
		len(pg.Items[0].Copies) != 1 || pg.Items[0].Copies[0].Archive != "bob@localhost" || pg.Items[1].Replaces != "m1" {
		t.Fatalf("search found %s", body)
	}
	// The retracted message: users see its tombstone; compliance finds the
	// original the hold kept by its words, beside the tombstone's state.
	if m4 := pg.Items[2]; m4.MessageID != "m4" || m4.Retracted == nil || m4.Held == nil || m4.Held.Body != "Merger price is 42" {
		t.Fatalf("the retracted message: %s", body)
	}
	// Paged one by one with the cursor.
	resp, body = e.do(t, compliance, "GET", "/api/v1/ediscovery/messages?participant=bob@localhost&limit=1", "")
	if p1 := decode[struct{ Next string }](t, body); resp.StatusCode != 200 || p1.Next == "" {
		t.Fatalf("page 1: %d %s", resp.StatusCode, body)
	} else if resp, body = e.do(t, compliance, "GET", "/api/v1/ediscovery/messages?participant=bob@localhost&limit=1&cursor="+url.QueryEscape(p1.Next), ""); resp.StatusCode != 200 || !strings.Contains(body, `"message_id":"m2"`) {
		t.Fatalf("page 2: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{"?participant=nobody", "?start=yesterday", "?cursor=zzz", "?limit=0"} {
		if resp, body := e.do(t, compliance, "GET", "/api/v1/ediscovery/messages"+bad, ""); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}

	// Export, follow its progress, download it.
	resp, body = e.do(t, compliance, "POST", "/api/v1/ediscovery/exports", `{"participants":["alice@localhost"]}`)
	if resp.StatusCode != 202 || resp.Header.Get("Location") == "" {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	var job struct {
		ediscovery.Job
		File string `json:"file"`
	}
	xmpptest.Eventually(t, 20*time.Second, func() error {
		resp, body := e.do(t, compliance, "GET", loc, "")
		if resp.StatusCode != 200 {
			return fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		job = decode[struct {
			ediscovery.Job
			File string `json:"file"`
		}](t, body)
		if job.Status == ediscovery.StatusRunning {
			return errors.New("running: " + body)
		}
		return nil
	})
	if job.Status != ediscovery.StatusDone || job.File != loc+"/file" || job.Progress.Messages != 5 || job.Progress.Attachments != 1 {
		t.Fatalf("job %+v", job)
	}
	resp, zb := e.do(t, compliance, "GET", job.File, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	pub, err := audit.LoadPublicKey(e.srv.Config.Data)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ediscovery.Verify(strings.NewReader(zb), int64(len(zb)), pub)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %v", err, rep.Problems)
	}
	if c := rep.Manifest.Counts; c.Messages != 5 || c.Attachments != 1 || c.EML != 1 || rep.Manifest.Actor != "admin-token:"+tokenID {
		t.Fatalf("manifest %+v", rep.Manifest)
	}
	files := unzipAll(t, []byte(zb))
	var attachment string
	for name, b := range files {
		if strings.HasPrefix(name, "attachments/") {
			attachment = string(b)
		}
	}
	if attachment != "the merger plan\n" {
		t.Errorf("attachment %q", attachment)
	}
	// A changed message: the zip no longer verifies.
	files[ediscovery.MessagesFile] = bytes.Replace(files[ediscovery.MessagesFile], []byte("keep it quiet"), []byte("tell everyone"), 1)
	var tampered bytes.Buffer
	zw := zip.NewWriter(&tampered)
	for _, f := range rep.Manifest.Files {
		w, _ := zw.Create(f.Name)
		w.Write(files[f.Name])
	}
	for _, n := range []string{ediscovery.ManifestFile, ediscovery.SignatureFile} {
		w, _ := zw.Create(n)
		w.Write(files[n])
	}
	zw.Close()
	rep, err = ediscovery.Verify(bytes.NewReader(tampered.Bytes()), int64(tampered.Len()), pub)
	if err != nil || rep.OK() || rep.Problems[0].Kind != ediscovery.ProblemEdited || rep.Problems[0].File != ediscovery.MessagesFile {
		t.Fatalf("tampered: %v %v", err, rep.Problems)
	}

	// Roles: compliance and admin only.
	id := job.ID
	for _, role := range []string{control.RoleHelpdesk, control.RoleAuditor} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v1/ediscovery/messages", ""},
			{"POST", "/api/v1/ediscovery/exports", `{}`},
			{"GET", "/api/v1/ediscovery/exports", ""},
			{"GET", "/api/v1/ediscovery/exports/" + id, ""},
			{"GET", "/api/v1/ediscovery/exports/" + id + "/file", ""},
		} {
			if resp, body := e.do(t, e.tokens[role], r.method, r.path, r.body); resp.StatusCode != 403 {
				t.Errorf("%s %s %s: %d %s, want 403", role, r.method, r.path, resp.StatusCode, body)
			}
		}
	}
	if resp, body := e.do(t, e.tokens[control.RoleAdmin], "GET", "/api/v1/ediscovery/exports", ""); resp.StatusCode != 200 || !strings.Contains(body, id) {
		t.Errorf("admin lists exports: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, compliance, "GET", "/api/v1/ediscovery/exports/00000000000000000000000000000000", ""); resp.StatusCode != 404 {
		t.Errorf("unknown export: %d", resp.StatusCode)
	}
	if resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "DELETE", loc, ""); resp.StatusCode != 403 {
		t.Errorf("helpdesk deletes an export: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, compliance, "DELETE", loc, ""); resp.StatusCode != 204 {
		t.Errorf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, compliance, "GET", job.File, ""); resp.StatusCode != 404 {
		t.Errorf("download after delete: %d", resp.StatusCode)
	}

	// The audit log: the searches and the export's steps, by the token.
	xmpptest.Eventually(t, 10*time.Second, func() error {
		recs, err := e.srv.Store().AuditRecords(ctx, store.AuditQuery{Action: audit.ActionExport, Actor: "admin-token:" + tokenID})
		if err != nil {
			return err
		}
		var ops []string
		for _, r := range recs {
			ops = append(ops, r.Details["op"])
		}
		if want := "search search search export-started export-finished export-downloaded export-deleted"; strings.Join(ops, " ") != want {
			return fmt.Errorf("audited %q, want %q", ops, want)
		}
		return nil
	})
}

func unzipAll(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

var _ = json.Marshal
