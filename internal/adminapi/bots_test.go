package adminapi_test

import (
	"net/http"
	"strings"
	"testing"

	"parley/internal/control"
)

// TestBotAccount: POST /api/v1/users with "bot": true creates an account
// that the API shows as a bot and whose bare JID answers disco#info with
// the identity client/bot besides account/registered, and whose vCard has
// KIND application; a person's account has neither.
func TestBotAccount(t *testing.T) {
	type user struct {
		Bot bool `json:"bot"`
	}
	e := start(t)
	admin := e.tokens[control.RoleAdmin]
	res, body := e.do(t, admin, "POST", "/api/v1/users", `{"username":"ci","password":"pw-ci","bot":true}`)
	if res.StatusCode != http.StatusCreated || decode[user](t, body).Bot != true {
		t.Fatalf("create bot: %d %s", res.StatusCode, body)
	}
	if res, body = e.do(t, admin, "GET", "/api/v1/users/ci@localhost", ""); !decode[user](t, body).Bot {
		t.Fatalf("get bot: %d %s", res.StatusCode, body)
	}
	if res, body = e.do(t, admin, "POST", "/api/v1/users", `{"username":"alice","password":"pw-alice"}`); res.StatusCode != http.StatusCreated || decode[user](t, body).Bot {
		t.Fatalf("create person: %d %s", res.StatusCode, body)
	}
	alice := e.srv.Online(t, "alice", "pw-alice", "desk")
	for _, tc := range []struct {
		jid string
		bot bool
	}{{"ci@localhost", true}, {"alice@localhost", false}} {
		r, err := alice.IQ(wait, "get", tc.jid, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
		if err != nil || r.Get("type") != "result" {
			t.Fatalf("disco#info %s: %v %v", tc.jid, r, err)
		}
		var ids []string
		for _, c := range r.Child("query", "").Children {
			if c.Name == "identity" {
				ids = append(ids, c.Get("category")+"/"+c.Get("type"))
			}
		}
		got := strings.Join(ids, " ")
		if !strings.Contains(got, "account/registered") || strings.Contains(got, "client/bot") != tc.bot {
			t.Errorf("%s identities %q, bot %v", tc.jid, got, tc.bot)
		}
		// Its vCard says so too (KIND application); a person who set
		// none has none.
		v, err := alice.IQ(wait, "get", tc.jid, "<vCard xmlns='vcard-temp'/>")
		if err != nil {
			t.Fatal(err)
		}
		if marked := v.Get("type") == "result" && v.Child("vCard", "vcard-temp").ChildText("KIND", "vcard-temp") == "application"; marked != tc.bot {
			t.Errorf("%s vCard %s, bot %v", tc.jid, v, tc.bot)
		}
	}
}
