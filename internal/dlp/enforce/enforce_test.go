package enforce_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"parley/internal/dlp"
	"parley/internal/dlp/enforce"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestFilter routes stanzas from juliet through the filter: what each
// recipient gets, what juliet is told, and the incident recorded.
func TestFilter(t *testing.T) {
	st := openStore(t)
	m, err := enforce.New(enforce.Options{Store: st, Incidents: st, Policies: []dlp.Policy{
		{Name: "cards", Action: dlp.Block, Builtins: []string{dlp.Card}},
		{Name: "ibans", Action: dlp.Redact, Builtins: []string{dlp.IBAN}, Replacement: "[IBAN]"},
		{Name: "falcon", Action: dlp.Flag, Keywords: []string{"project falcon"}},
		{Name: "board", Action: dlp.Block, Keywords: []string{"layoffs"}, Rooms: []string{"board@conference.capulet.lit"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := router.New(jid.MustParse("capulet.lit"), imtest.Accounts{"juliet": true, "romeo": true}, nil)
	var room []*stanza.Stanza
	r.HandleDomain("conference.capulet.lit", func(_ context.Context, s *stanza.Stanza) { room = append(room, s) })
	var uploads []*stanza.Stanza
	r.HandleDomain("upload.capulet.lit", func(_ context.Context, s *stanza.Stanza) { uploads = append(uploads, s) })
	remote := imtest.NewRemote(t)
	r.SetRemote(remote)
	m.Register(r)
	juliet := imtest.NewSession(t, "juliet@capulet.lit/balcony")
	romeo := imtest.NewSession(t, "romeo@capulet.lit/orchard")
	for _, s := range []*imtest.Session{juliet, romeo} {
		r.Bind(s)
		r.SetAvailability(s.JID(), true, 0, nil)
	}
	const iban = "DE89 3704 0044 0532 0130 00"
	tests := []struct {
		send     string
		toRomeo  string // a substring of what romeo gets; "" nothing
		toJuliet string // a substring of what juliet gets; "" nothing
		toRoom   string
		toUpload string
		toRemote string // another server
		action   string // the incident; "" none
		field    string
	}{
		0: {send: `<message to='romeo@capulet.lit' type='chat' id='m0'><body>hello</body></message>`, toRomeo: "<body>hello</body>"},
		1: {send: `<message to='romeo@capulet.lit' type='chat' id='m1'><body>card 4111 1111 1111 1111</body></message>`,
			toJuliet: "policy-violation", action: dlp.Block, field: "body"},
		2: {send: `<message to='romeo@capulet.lit' type='chat' id='m2'><body>pay ` + iban + ` today</body>` +
			`<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>pay ` + iban + `</body></html></message>`,
			toRomeo: "<body>pay [IBAN] today</body>", toJuliet: `action='redact'`, action: dlp.Redact, field: "body"},
		3: {send: `<message to='romeo@capulet.lit' type='chat' id='m3'><body>on Project Falcon</body></message>`,
			toRomeo: "Project Falcon", action: dlp.Flag, field: "body"},
		4: {send: `<message to='romeo@capulet.lit' type='chat' id='m4'><body>fixed: ` + iban + `</body><replace xmlns='urn:xmpp:message-correct:0' id='m2'/></message>`,
			toRomeo: "fixed: [IBAN]", toJuliet: `action='redact'`, action: dlp.Redact, field: "correction"},
		5: {send: `<message to='board@conference.capulet.lit' type='groupchat' id='m5'><subject>layoffs</subject></message>`,
			toJuliet: "policy-violation", action: dlp.Block, field: "subject"},
		6: {send: `<message to='other@conference.capulet.lit' type='groupchat' id='m6'><subject>layoffs</subject></message>`,
			toRoom: "layoffs"},
		7: {send: `<iq to='upload.capulet.lit' type='get' id='u1'><request xmlns='urn:xmpp:http:upload:0' filename='4111111111111111.pdf' size='10' content-type='application/pdf'/></iq>`,
			toJuliet: "policy-violation", action: dlp.Block, field: "upload-filename"},
		8: {send: `<iq to='upload.capulet.lit' type='get' id='u2'><request xmlns='urn:xmpp:http:upload:0' filename='iban ` + iban + `.txt' size='10'/></iq>`,
			toUpload: `filename='iban [IBAN].txt'`, toJuliet: `action='redact'`, action: dlp.Redact, field: "upload-filename"},
		9: {send: `<iq type='set' id='v1'><vCard xmlns='vcard-temp'><NOTE>my card 4111111111111111</NOTE><PHOTO><BINVAL>4111111111111111</BINVAL></PHOTO></vCard></iq>`,
			toJuliet: "policy-violation", action: dlp.Block, field: "vcard"},
		10: {send: `<iq type='set' id='v2'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:vcard4'><item id='current'>` +
			`<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><note><text>4111111111111111</text></note></vcard></item></publish></pubsub></iq>`,
			toJuliet: "policy-violation", action: dlp.Block, field: "vcard"},
		11: {send: `<message to='romeo@capulet.lit' type='error' id='m7'><body>4111111111111111</body></message>`},
		// What goes to other servers is checked the same.
		12: {send: `<message to='mercutio@verona.lit' type='chat' id='f1'><body>4111111111111111</body></message>`,
			toJuliet: "policy-violation", action: dlp.Block, field: "body"},
		13: {send: `<message to='mercutio@verona.lit' type='chat' id='f2'><body>` + iban + `</body></message>`,
			toRemote: "<body>[IBAN]</body>", toJuliet: `action='redact'`, action: dlp.Redact, field: "body"},
	}
	var last int64
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			room, uploads = nil, nil
			s := imtest.Parse(t, tc.send)
			s.SetFrom(juliet.JID())
			r.Route(context.Background(), s)
			check := func(who string, got imtest.Stanzas, want string) {
				t.Helper()
				if want == "" && len(got) > 0 || want != "" && !strings.Contains(got.String(), want) {
					t.Errorf("%s got %s, want %q", who, got, want)
				}
			}
			check("romeo", romeo.Take(), tc.toRomeo)
			check("juliet", juliet.Take(), tc.toJuliet)
			check("the room", room, tc.toRoom)
			check("upload", uploads, tc.toUpload)
			check("the other server", remote.Take(), tc.toRemote)
			list, err := st.Incidents(context.Background(), store.IncidentQuery{After: last})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.action == "" && len(list) > 0:
				t.Fatalf("incidents %+v, want none", list)
			case tc.action == "":
			case len(list) != 1 || list[0].Action != tc.action || list[0].Field != tc.field || list[0].Sender != juliet.JID().String():
				t.Fatalf("incidents %+v, want one %s in %s", list, tc.action, tc.field)
			default:
				last = list[0].ID
				in, err := st.Incident(context.Background(), last)
				if err != nil || !strings.Contains(string(in.Stanza), s.ID) || strings.Contains(in.Summary, "4111") {
					t.Errorf("incident %+v, %v: want the original stanza and a summary without the match", in, err)
				}
			}
		})
	}
}

// TestPolicyAPI: policies made through the module persist in the store,
// apply at once, survive a new module (a restart), and cannot replace
// the configuration's.
func TestPolicyAPI(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	cfg := []dlp.Policy{{Name: "cards", Action: dlp.Block, Builtins: []string{dlp.Card}}}
	m, err := enforce.New(enforce.Options{Store: st, Incidents: st, Policies: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.PutPolicy(ctx, dlp.Policy{Name: "cards", Action: dlp.Flag, Keywords: []string{"x"}}, "t"); err != enforce.ErrConfigPolicy {
		t.Errorf("replacing a config policy: %v", err)
	}
	if _, err := m.PutPolicy(ctx, dlp.Policy{Name: "bad", Action: "shout"}, "t"); err == nil {
		t.Error("an invalid policy was taken")
	}
	created, err := m.PutPolicy(ctx, dlp.Policy{Name: "falcon", Action: dlp.Block, Keywords: []string{"falcon"}}, "admin-token:a")
	if err != nil || !created {
		t.Fatalf("PutPolicy = %v, %v", created, err)
	}
	if got := m.Policies(); len(got) != 2 || got[1].Origin != dlp.FromAPI || got[1].UpdatedBy != "admin-token:a" {
		t.Fatalf("Policies = %+v", got)
	}
	m2, err := enforce.New(enforce.Options{Store: st, Incidents: st, Policies: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	r := router.New(jid.MustParse("capulet.lit"), imtest.Accounts{"juliet": true, "romeo": true}, nil)
	m2.Register(r)
	juliet := imtest.NewSession(t, "juliet@capulet.lit/balcony")
	r.Bind(juliet)
	s := imtest.Parse(t, `<message to='romeo@capulet.lit' id='x'><body>falcon</body></message>`)
	s.SetFrom(juliet.JID())
	r.Route(ctx, s)
	if got := juliet.Take().String(); !strings.Contains(got, "policy-violation") {
		t.Errorf("after a restart the API's policy does not block: %s", got)
	}
	if err := m2.DeletePolicy(ctx, "falcon"); err != nil {
		t.Fatal(err)
	}
	if err := m2.DeletePolicy(ctx, "falcon"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it twice: %v", err)
	}
	if err := m2.DeletePolicy(ctx, "cards"); err != enforce.ErrConfigPolicy {
		t.Errorf("deleting a config policy: %v", err)
	}
}
