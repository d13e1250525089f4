package adminapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"parley/internal/control"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// TestSupervision: a compliance token makes a DLP policy through the API;
// a client's message that breaks it is blocked with policy-violation; the
// incident is listed, opened with the conversation around it from the
// archive, escalated and resolved with notes; other roles are refused;
// every step is in the audit log.
func TestSupervision(t *testing.T) {
	e := start(t)
	comp, help := e.tokens[control.RoleCompliance], e.tokens[control.RoleHelpdesk]
	e.srv.AddUser(t, "alice", "pw-alice")
	e.srv.AddUser(t, "bob", "pw-bob")

	policy := `{"action":"block","keywords":["project falcon"],"notice":"Falcon is need-to-know."}`
	if resp, got := e.do(t, help, "PUT", "/api/v1/dlp/policies/falcon", policy); resp.StatusCode != 403 {
		t.Fatalf("helpdesk PUT: %d %s", resp.StatusCode, got)
	}
	if resp, got := e.do(t, comp, "PUT", "/api/v1/dlp/policies/falcon", `{"action":"shout","keywords":["x"]}`); resp.StatusCode != 400 || !strings.Contains(got, "action") {
		t.Fatalf("invalid PUT: %d %s", resp.StatusCode, got)
	}
	if resp, got := e.do(t, comp, "PUT", "/api/v1/dlp/policies/falcon", policy); resp.StatusCode != 201 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, got)
	}
	if resp, got := e.do(t, comp, "GET", "/api/v1/dlp/policies", ""); resp.StatusCode != 200 || !strings.Contains(got, `"origin":"api"`) {
		t.Fatalf("GET policies: %d %s", resp.StatusCode, got)
	}

	alice := e.srv.Online(t, "alice", "pw-alice", "a")
	bob := e.srv.Online(t, "bob", "pw-bob", "b")
	for i := range 3 {
		alice.Send(fmt.Sprintf("<message to='bob@localhost' type='chat' id='c%d'><body>before %d</body></message>", i, i))
		if _, err := bob.Expect(wait, hasBody(fmt.Sprintf("before %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	alice.Send("<message to='bob@localhost' type='chat' id='leak'><body>the Project Falcon numbers</body></message>")
	bounce, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("id") == "leak" && el.Get("type") == "error" })
	if err != nil {
		t.Fatal(err)
	}
	if er := bounce.Child("error", ""); er == nil || er.Child("policy-violation", "") == nil ||
		er.ChildText("text", "") != "Falcon is need-to-know." {
		t.Errorf("bounce %s: want policy-violation with the notice", xmlstream.AppendIn(nil, bounce, "jabber:client"))
	}
	alice.Send("<message to='bob@localhost' type='chat' id='c9'><body>after</body></message>")
	if _, err := bob.Expect(wait, hasBody("after")); err != nil {
		t.Fatal(err)
	}

	if resp, _ := e.do(t, help, "GET", "/api/v1/incidents", ""); resp.StatusCode != 403 {
		t.Errorf("helpdesk lists incidents: %d", resp.StatusCode)
	}
	_, got := e.do(t, comp, "GET", "/api/v1/incidents?source=dlp&state=open", "")
	page := decode[struct {
		Items []struct {
			ID       int64
			Action   string
			Policies []string
			Sender   string
			Summary  string
		}
	}](t, got)
	if len(page.Items) != 1 || page.Items[0].Action != "block" || page.Items[0].Sender != "alice@localhost/a" ||
		strings.Contains(page.Items[0].Summary, "Falcon") {
		t.Fatalf("incidents %s", got)
	}
	id := page.Items[0].ID
	// The context: alice's archive with bob, before and after (the
	// archive commits the last message after bob got it).
	xmpptest.Eventually(t, wait, func() error {
		resp, got := e.do(t, comp, "GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
		if resp.StatusCode != 200 || !strings.Contains(got, "the Project Falcon numbers") || !strings.Contains(got, "before 2") ||
			!strings.Contains(got, `"archive":"alice"`) || !strings.Contains(got, "after") {
			return fmt.Errorf("open: %d %s", resp.StatusCode, got)
		}
		return nil
	})
	// The blocked message is in no archive.
	for _, owner := range []string{"alice", "bob"} {
		pg, err := e.srv.Store().QueryArchive(context.Background(), owner, store.ArchiveQuery{Text: "falcon", Limit: 10})
		if err != nil || len(pg.Messages) != 0 {
			t.Errorf("%s's archive holds the blocked message: %+v, %v", owner, pg.Messages, err)
		}
	}
	for _, step := range []struct {
		path, body string
		want       int
	}{
		{"escalate", `{"note":"to legal"}`, 200},
		{"escalate", "", 409},
		{"notes", `{"note":"legal says fine"}`, 200},
		{"notes", ``, 400},
		{"resolve", "", 200},
	} {
		if resp, got := e.do(t, comp, "POST", fmt.Sprintf("/api/v1/incidents/%d/%s", id, step.path), step.body); resp.StatusCode != step.want {
			t.Errorf("%s: %d %s, want %d", step.path, resp.StatusCode, got, step.want)
		}
	}
	_, got = e.do(t, comp, "GET", fmt.Sprintf("/api/v1/incidents/%d", id), "")
	if !strings.Contains(got, `"state":"resolved"`) || !strings.Contains(got, "to legal") || !strings.Contains(got, "legal says fine") {
		t.Errorf("after review: %s", got)
	}
	if resp, _ := e.do(t, comp, "GET", "/api/v1/incidents/999999", ""); resp.StatusCode != 404 {
		t.Errorf("open a missing incident: %d", resp.StatusCode)
	}
	// Every step is audited, reads included.
	xmpptest.Eventually(t, wait, func() error {
		_, got := e.do(t, e.tokens[control.RoleAuditor], "GET", "/api/v1/audit?action=incident-review", "")
		for _, step := range []string{"list", "open", "escalate", "note", "resolve"} {
			if !strings.Contains(got, `"step":"`+step+`"`) {
				return fmt.Errorf("no %s step in %s", step, got)
			}
		}
		_, got = e.do(t, e.tokens[control.RoleAuditor], "GET", "/api/v1/audit?action=policy", "")
		if !strings.Contains(got, `"decision":"block"`) {
			return fmt.Errorf("no DLP decision in %s", got)
		}
		return nil
	})
	if resp, _ := e.do(t, comp, "DELETE", "/api/v1/dlp/policies/falcon", ""); resp.StatusCode != 204 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	alice.Send("<message to='bob@localhost' type='chat' id='free'><body>Project Falcon is public now</body></message>")
	if _, err := bob.Expect(wait, hasBody("Project Falcon is public now")); err != nil {
		t.Errorf("after the policy's removal: %v", err)
	}
}

func hasBody(body string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool { return el.Name == "message" && el.ChildText("body", "") == body }
}
