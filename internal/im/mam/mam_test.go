package mam

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// TestArchivable: which messages are kept (XEP-0313 §3, XEP-0334, and the
// payload XEPs' business rules; see archivable).
func TestArchivable(t *testing.T) {
	tests := []struct {
		xml  string
		want bool
	}{
		{`<message type='chat'><body>hi</body></message>`, true},
		{`<message><body>no type is normal</body></message>`, true},
		{`<message type='normal'><body>hi</body></message>`, true},
		{`<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`, false},
		{`<message type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`, true},
		{`<message type='error'><body>hi</body></message>`, false},
		{`<message type='groupchat'><body>hi</body></message>`, false},
		{`<message type='headline'><body>news</body></message>`, false},
		{`<message type='chat'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>`, false},
		{`<message type='chat'><body>secret</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`, false},
		// XEP-0184: a receipt alone is a state change, unless hinted.
		{`<message><received xmlns='urn:xmpp:receipts' id='m1'/></message>`, false},
		{`<message><received xmlns='urn:xmpp:receipts' id='m1'/><store xmlns='urn:xmpp:hints'/></message>`, true},
		// XEP-0333: displayed syncs read state; received/acknowledged do not.
		{`<message type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>`, true},
		{`<message type='chat'><received xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>`, false},
		{`<message type='chat'><acknowledged xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>`, false},
		// XEP-0308: a correction carries the new body.
		{`<message type='chat'><body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='m1'/></message>`, true},
		// XEP-0424 (v1 and the fastened v0) and XEP-0444.
		{`<message type='chat'><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><fallback xmlns='urn:xmpp:fallback:0'/></message>`, true},
		{`<message type='chat'><apply-to xmlns='urn:xmpp:fasten:0' id='m1'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to></message>`, true},
		{`<message type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>👍</reaction></reactions></message>`, true},
		{`<message type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted></message>`, true},
		{`<message type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'/><no-store xmlns='urn:xmpp:hints'/></message>`, false},
		{`<message type='chat'/>`, false},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := archivable(imtest.Parse(t, tc.xml)); got != tc.want {
				t.Errorf("archivable(%s) = %v, want %v", tc.xml, got, tc.want)
			}
		})
	}
}

// TestBothCopies: a message between two local users lands in both
// archives; the recipient's archive id is the stanza-id it received, the
// sender's is a stanza-id by the sender in the archived copy, and the
// routed message is untouched by the sender's copy.
func TestBothCopies(t *testing.T) {
	e := newEnv(t)
	e.send(t, "alice@example.com/desk", `<message to='bob@example.com' type='chat' id='m1'><body>hello bob</body></message>`)
	got := e.s["bob@example.com/laptop"].Take()
	if len(got) != 1 {
		t.Fatalf("bob got %d stanzas", len(got))
	}
	var sids []string
	for _, c := range got[0].El.Children {
		if c.Name == "stanza-id" && c.Space == router.NSStanzaID {
			sids = append(sids, c.Get("by")+" "+c.Get("id"))
		}
	}
	if len(sids) != 1 || !strings.HasPrefix(sids[0], "bob@example.com ") {
		t.Fatalf("bob's message has stanza-ids %q, want only bob's", sids)
	}
	bobID := strings.TrimPrefix(sids[0], "bob@example.com ")

	for _, tc := range []struct {
		user, by string
		with     string
	}{{"bob", "bob@example.com", "alice@example.com"}, {"alice", "alice@example.com", "bob@example.com"}} {
		p, err := e.st.QueryArchive(t.Context(), tc.user, store.ArchiveQuery{Limit: 10})
		if err != nil || len(p.Messages) != 1 {
			t.Fatalf("%s's archive: %d messages, %v", tc.user, len(p.Messages), err)
		}
		m := p.Messages[0]
		el, err := xmlstream.Parse(m.Stanza, xmlstream.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if el.Space != stanza.NSClient || el.ChildText("body", "") != "hello bob" || el.Get("from") != "alice@example.com/desk" {
			t.Errorf("%s archived %s", tc.user, m.Stanza)
		}
		if id := stanzaID(el, tc.by); id != m.ID {
			t.Errorf("%s: archive id %q, stanza-id in the copy %q", tc.user, m.ID, id)
		}
		if m.With != tc.with {
			t.Errorf("%s: with %q, want %q", tc.user, m.With, tc.with)
		}
		if tc.user == "bob" && m.ID != bobID {
			t.Errorf("bob's archive id %q, stanza-id delivered %q", m.ID, bobID)
		}
	}
}

// TestWhatIsArchived routes a conversation through the router: only
// archivable messages land, once per owner, in order.
func TestWhatIsArchived(t *testing.T) {
	e := newEnv(t)
	for _, raw := range []string{
		`<message to='bob@example.com' type='chat' id='a'><body>one</body></message>`,
		`<message to='bob@example.com' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
		`<message to='bob@example.com/laptop' type='chat'><received xmlns='urn:xmpp:receipts' id='x'/></message>`,
		`<message to='bob@example.com' type='chat'><body>two</body><replace xmlns='urn:xmpp:message-correct:0' id='a'/></message>`,
		`<message to='bob@example.com' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='a'><reaction>👍</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>`,
		`<message to='bob@example.com' type='chat'><retract xmlns='urn:xmpp:message-retract:1' id='a'/><body>/me retracted</body></message>`,
		`<message to='alice@example.com/phone' type='chat'><body>note to self</body></message>`,
		`<message to='carol@example.com' type='chat'><body>offline</body></message>`,
		`<message to='someone@elsewhere.example' type='chat'><body>remote</body></message>`,
		`<message to='example.com'><body>to the server</body></message>`,
	} {
		e.send(t, "alice@example.com/desk", raw)
	}
	// The retraction of 'a' leaves a tombstone of "one" (XEP-0424 §5).
	want := map[string][]string{
		"alice": {"<retracted/>", "two", "<reactions/><store/>", "/me retracted", "note to self", "offline", "remote"},
		"bob":   {"<retracted/>", "two", "<reactions/><store/>", "/me retracted"},
		"carol": {"offline"},
	}
	for user, w := range want {
		if got := e.archived(t, user); !slices.Equal(got, w) {
			t.Errorf("%s's archive = %q, want %q", user, got, w)
		}
	}
}

// fill archives n messages alice<->bob through the router and returns the
// archive ids in order (alice's archive).
func fill(t *testing.T, e *env, n int) []string {
	t.Helper()
	for i := range n {
		from, to := "alice@example.com/desk", "bob@example.com"
		if i%3 == 2 {
			from, to = "bob@example.com/laptop", "alice@example.com"
		}
		e.send(t, from, fmt.Sprintf(`<message to='%s' type='chat' id='m%d'><body>message %d</body></message>`, to, i, i))
	}
	for _, s := range e.s {
		s.Take()
	}
	p, err := e.st.QueryArchive(t.Context(), "alice", store.ArchiveQuery{Limit: 1000})
	if err != nil || len(p.Messages) != n {
		t.Fatalf("alice's archive: %d messages, %v", len(p.Messages), err)
	}
	var ids []string
	for _, m := range p.Messages {
		ids = append(ids, m.ID)
	}
	return ids
}

// query sends a MAM query with a form and an RSM set.
func query(fields, rsm string, extra ...string) string {
	form := ""
	if fields != "" {
		form = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` + fields + `</x>`
	}
	if rsm != "" {
		rsm = `<set xmlns='http://jabber.org/protocol/rsm'>` + rsm + `</set>`
	}
	return `<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='qid'>` + form + rsm + strings.Join(extra, "") + `</query></iq>`
}

func field(name string, values ...string) string {
	s := `<field var='` + name + `'>`
	for _, v := range values {
		s += `<value>` + v + `</value>`
	}
	return s + `</field>`
}

// pageResult is what a query returned: result ids in delivery order and
// the <fin/>.
type pageResult struct {
	ids                []string
	complete           bool
	first, last, count string
}

func (e *env) page(t *testing.T, raw string) pageResult {
	t.Helper()
	results, answer := e.iq(t, "alice@example.com/desk", raw)
	if answer.Get("type") != "result" {
		t.Fatalf("query %s: %s", raw, answer)
	}
	fin := answer.Child("fin", NS)
	if fin == nil || fin.Get("stable") != "true" {
		t.Fatalf("answer without a stable <fin/>: %s", answer)
	}
	var p pageResult
	for _, r := range results {
		res, msg := forwarded(t, r)
		if res.Get("queryid") != "qid" || r.Get("to") != "alice@example.com/desk" || r.Get("from") != "alice@example.com" {
			t.Fatalf("result %s: wrong queryid or addressee", r)
		}
		if got := stanzaID(msg, "alice@example.com"); got != res.Get("id") {
			t.Fatalf("result id %q, stanza-id %q in the archived copy", res.Get("id"), got)
		}
		p.ids = append(p.ids, res.Get("id"))
	}
	p.complete = fin.Get("complete") == "true"
	set := fin.Child("set", NSRSM)
	if set == nil {
		t.Fatalf("fin without <set/>: %s", answer)
	}
	p.first, p.last, p.count = set.ChildText("first", NSRSM), set.ChildText("last", NSRSM), set.ChildText("count", NSRSM)
	return p
}

func wantPage(t *testing.T, what string, got pageResult, ids []string, complete bool, count int) {
	t.Helper()
	if !slices.Equal(got.ids, ids) || got.complete != complete || got.count != strconv.Itoa(count) {
		t.Fatalf("%s: got ids %q complete %v count %s; want %q %v %d", what, got.ids, got.complete, got.count, ids, complete, count)
	}
}

// TestPaging: XEP-0059 paging forward and backward, flip-page and the
// #extended id filters, from the client's side.
func TestPaging(t *testing.T) {
	e := newEnv(t)
	all := fill(t, e, 10)

	p := e.page(t, query("", "<max>4</max>"))
	wantPage(t, "first page", p, all[0:4], false, 10)
	if p.first != all[0] || p.last != all[3] {
		t.Fatalf("first/last = %s/%s", p.first, p.last)
	}
	p = e.page(t, query("", "<max>4</max><after>"+p.last+"</after>"))
	wantPage(t, "second page", p, all[4:8], false, 10)
	p = e.page(t, query("", "<max>4</max><after>"+p.last+"</after>"))
	wantPage(t, "last page forward", p, all[8:10], true, 10)

	p = e.page(t, query("", "<max>4</max><before/>"))
	wantPage(t, "last page", p, all[6:10], false, 10)
	p = e.page(t, query("", "<max>4</max><before>"+p.first+"</before>"))
	wantPage(t, "page before", p, all[2:6], false, 10)
	p = e.page(t, query("", "<max>4</max><before>"+p.first+"</before>"))
	wantPage(t, "first page backward", p, all[0:2], true, 10)

	// flip-page: the newest first, RSM first/last unchanged.
	p = e.page(t, query("", "<max>3</max><before/>", "<flip-page/>"))
	wantPage(t, "flipped last page", p, []string{all[9], all[8], all[7]}, false, 10)
	if p.first != all[7] || p.last != all[9] {
		t.Fatalf("flipped first/last = %s/%s, want %s/%s", p.first, p.last, all[7], all[9])
	}

	p = e.page(t, query(field("after-id", all[2])+field("before-id", all[7]), "<max>10</max>"))
	wantPage(t, "after-id/before-id", p, all[3:7], true, 4)
	p = e.page(t, query(field("ids", all[5], all[1]), ""))
	wantPage(t, "ids", p, []string{all[1], all[5]}, true, 2)
	p = e.page(t, query(field("with", "bob@example.com/laptop"), "<max>0</max>"))
	wantPage(t, "count only", p, nil, false, 10)
	p = e.page(t, query(field("with", "carol@example.com"), ""))
	wantPage(t, "with nobody", p, nil, true, 0)
	if p.first != "" || p.last != "" {
		t.Fatalf("an empty page has first/last %q/%q", p.first, p.last)
	}
}

// TestFullText: XEP-0431's field and ejabberd's withtext.
func TestFullText(t *testing.T) {
	e := newEnv(t)
	for _, b := range []string{"Lunch at the café?", "no thanks", "CAFE tomorrow then", "see you"} {
		e.send(t, "alice@example.com/desk", `<message to='bob@example.com' type='chat'><body>`+b+`</body></message>`)
	}
	for i, tc := range []struct {
		fields string
		want   []string
	}{
		{field("{urn:xmpp:fulltext:0}fulltext", "cafe"), []string{"Lunch at the café?", "CAFE tomorrow then"}},
		{field("withtext", "Café tomorrow"), []string{"CAFE tomorrow then"}},
		{field("withtext", "coffee"), nil},
		{field("{urn:xmpp:fulltext:0}fulltext", "you") + field("with", "bob@example.com"), []string{"see you"}},
	} {
		results, answer := e.iq(t, "alice@example.com/desk", query(tc.fields, ""))
		if answer.Get("type") != "result" {
			t.Fatalf("%d: %s", i, answer)
		}
		var got []string
		for _, r := range results {
			_, msg := forwarded(t, r)
			got = append(got, msg.ChildText("body", ""))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%d: %q, want %q", i, got, tc.want)
		}
	}
}

// TestQueryErrors: the errors XEP-0313 and XEP-0059 name.
func TestQueryErrors(t *testing.T) {
	e := newEnv(t)
	all := fill(t, e, 3)
	tests := []struct {
		from, iq, want string
	}{
		{"", query(field("start", "yesterday"), ""), "bad-request"},
		{"", query(field("end", "2024-13-45T00:00:00Z"), ""), "bad-request"},
		{"", query(field("start", "2024-01-02T00:00:00Z")+field("end", "2024-01-01T00:00:00Z"), ""), "bad-request"},
		{"", query(field("with", "@@bad"), ""), "bad-request"},
		{"", query(field("after-id", "nope"), ""), "item-not-found"},
		{"", query(field("before-id", "nope"), ""), "item-not-found"},
		{"", query(field("ids", all[0], "nope"), ""), "item-not-found"},
		{"", query("", "<after>nope</after>"), "item-not-found"},
		{"", query("", "<before>nope</before>"), "item-not-found"},
		{"", query("", "<max>-1</max>"), "bad-request"},
		{"", query("", "<index>3</index>"), "feature-not-implemented"},
		{"", query(field("unknown-filter", "x"), ""), "feature-not-implemented"},
		{"", `<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:1</value></field></x></query></iq>`, "bad-request"},
		// Someone else's archive.
		{"", `<iq type='set' id='q' to='bob@example.com'><query xmlns='urn:xmpp:mam:2'/></iq>`, "forbidden"},
		// bob's ids are unknown in alice's archive... but bob's own query works.
		{"bob@example.com/laptop", query("", "<max>1</max>"), ""},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			from := tc.from
			if from == "" {
				from = "alice@example.com/desk"
			}
			results, answer := e.iq(t, from, tc.iq)
			if got := errCondition(answer); got != tc.want {
				t.Fatalf("%s: error %q, want %q; answer %s", tc.iq, got, tc.want, answer)
			}
			if tc.want != "" && len(results) != 0 {
				t.Fatalf("%d results sent before an error", len(results))
			}
		})
	}
}

// TestMaxCapped: a max above MaxPage gets MaxPage results, not an error.
func TestMaxCapped(t *testing.T) {
	e := newEnv(t)
	var msgs []store.ArchivedMessage
	for i := range MaxPage + 5 {
		msgs = append(msgs, store.ArchivedMessage{Owner: "alice", ID: fmt.Sprint("id", i), With: "bob@example.com",
			Stanza: []byte(`<message xmlns='jabber:client'><body>x</body></message>`)})
	}
	if err := e.st.AppendArchive(t.Context(), msgs); err != nil {
		t.Fatal(err)
	}
	results, answer := e.iq(t, "alice@example.com/desk", query("", "<max>100000</max>"))
	fin := answer.Child("fin", NS)
	if len(results) != MaxPage || fin == nil || fin.Get("complete") == "true" {
		t.Fatalf("got %d results, answer %s", len(results), answer)
	}
	results, _ = e.iq(t, "alice@example.com/desk", query("", ""))
	if len(results) != DefaultPage {
		t.Fatalf("no max: %d results, want %d", len(results), DefaultPage)
	}
}

// TestFormAndMetadata: the query form lists the fields; metadata gives the
// archive's ends.
func TestFormAndMetadata(t *testing.T) {
	e := newEnv(t)
	_, answer := e.iq(t, "alice@example.com/desk", `<iq type='get' id='f'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	x := answer.Child("query", NS).Child("x", NSData)
	var vars []string
	for _, f := range x.Children {
		vars = append(vars, f.Get("var"))
	}
	for _, v := range []string{"FORM_TYPE", "with", "start", "end", "{urn:xmpp:fulltext:0}fulltext", "withtext", "before-id", "after-id", "ids"} {
		if !slices.Contains(vars, v) {
			t.Errorf("form lacks %q: %q", v, vars)
		}
	}

	meta := `<iq type='get' id='m'><metadata xmlns='urn:xmpp:mam:2'/></iq>`
	_, answer = e.iq(t, "alice@example.com/desk", meta)
	if md := answer.Child("metadata", NS); md == nil || len(md.Children) != 0 {
		t.Fatalf("empty archive metadata: %s", answer)
	}
	all := fill(t, e, 3)
	_, answer = e.iq(t, "alice@example.com/desk", meta)
	md := answer.Child("metadata", NS)
	start, end := md.Child("start", NS), md.Child("end", NS)
	if start == nil || end == nil || start.Get("id") != all[0] || end.Get("id") != all[2] ||
		!strings.HasSuffix(start.Get("timestamp"), "Z") {
		t.Fatalf("metadata = %s, want %s..%s", answer, all[0], all[2])
	}
	if _, err := parseDateTime(end.Get("timestamp")); err != nil {
		t.Fatalf("metadata timestamp: %v", err)
	}
}

// TestPrefs: XEP-0441 get/set and their effect on what is archived.
func TestPrefs(t *testing.T) {
	e := newEnv(t)
	alice := "alice@example.com/desk"
	_, answer := e.iq(t, alice, `<iq type='get' id='p'><prefs xmlns='urn:xmpp:mam:2'/></iq>`)
	if p := answer.Child("prefs", NS); p == nil || p.Get("default") != "always" {
		t.Fatalf("default prefs: %s", answer)
	}
	setPrefs := func(prefs string) *xmlstream.Element {
		_, answer := e.iq(t, alice, `<iq type='set' id='p'>`+prefs+`</iq>`)
		return answer
	}
	msg := func(from, to, body string) {
		e.send(t, from, `<message to='`+to+`' type='chat'><body>`+body+`</body></message>`)
	}

	a := setPrefs(`<prefs xmlns='urn:xmpp:mam:2' default='never'><always><jid>carol@example.com</jid></always><never/></prefs>`)
	if p := a.Child("prefs", NS); p == nil || p.Get("default") != "never" || p.Child("always", NS).ChildText("jid", NS) != "carol@example.com" {
		t.Fatalf("set prefs answer: %s", a)
	}
	msg(alice, "bob@example.com", "not kept")
	msg(alice, "carol@example.com", "kept for carol")

	setPrefs(`<prefs xmlns='urn:xmpp:mam:2' default='roster'><always/><never><jid>bob@example.com</jid></never></prefs>`)
	e.roster["alice"] = []string{"bob@example.com", "carol@example.com"}
	msg(alice, "bob@example.com", "never bob")
	msg(alice, "carol@example.com", "roster carol")
	msg("bob@example.com/laptop", "alice@example.com", "from bob, never")
	e.roster["alice"] = nil
	msg(alice, "carol@example.com", "carol left the roster")

	setPrefs(`<prefs xmlns='urn:xmpp:mam:2' default='always'/>`)
	msg(alice, "bob@example.com", "always again")

	want := []string{"kept for carol", "roster carol", "always again"}
	if got := e.archived(t, "alice"); !slices.Equal(got, want) {
		t.Fatalf("alice's archive = %q, want %q", got, want)
	}
	// Persisted: a new module (after a restart) reads them from the store.
	m2 := New(Options{Store: e.st})
	if m2.wants(t.Context(), jid.MustParse("alice@example.com"), jid.MustParse("bob@example.com")) != true {
		t.Fatal("prefs not read back")
	}
	setPrefs(`<prefs xmlns='urn:xmpp:mam:2' default='never'/>`)
	m3 := New(Options{Store: e.st})
	if m3.wants(t.Context(), jid.MustParse("alice@example.com"), jid.MustParse("bob@example.com")) {
		t.Fatal("default never not read back from the store")
	}

	// The server's default, changed on a running server (a reload),
	// applies at once to users who set no preferences, cached or not.
	bob, carol := jid.MustParse("bob@example.com"), jid.MustParse("carol@example.com")
	if !m3.wants(t.Context(), bob, carol) {
		t.Fatal("bob, without preferences, is not archived by the default 'always'")
	}
	m3.SetDefaultMode(store.ArchiveNever)
	if m3.wants(t.Context(), bob, carol) {
		t.Fatal("SetDefaultMode(never) did not apply to bob's cached preferences")
	}
	m3.SetDefaultMode(store.ArchiveAlways)
	if !m3.wants(t.Context(), bob, carol) {
		t.Fatal("SetDefaultMode(always) did not apply to bob")
	}
	// alice's own default ('never', set above) is hers, not the server's.
	if m3.wants(t.Context(), jid.MustParse("alice@example.com"), carol) {
		t.Fatal("the server's default overrode alice's own")
	}

	for i, bad := range []string{
		`<prefs xmlns='urn:xmpp:mam:2' default='sometimes'/>`,
		`<prefs xmlns='urn:xmpp:mam:2' default='always'><always><jid>@@bad</jid></always></prefs>`,
	} {
		if c := errCondition(setPrefs(bad)); c != "bad-request" && c != "jid-malformed" {
			t.Errorf("%d: bad prefs answered %q", i, c)
		}
	}
}

// TestQueryDeadline: a query that outlives Limits.QueryTimeout in the
// store is answered with resource-constraint, not left running.
func TestQueryDeadline(t *testing.T) {
	e := newEnv(t)
	fill(t, e, 3)
	e.m.limits.QueryTimeout = time.Nanosecond // expired before the store starts
	_, answer := e.iq(t, "alice@example.com/desk", query("", "<max>10</max>"))
	if got := errCondition(answer); got != "resource-constraint" {
		t.Fatalf("query past its deadline answered %q: %s", got, answer)
	}
	e.m.limits.QueryTimeout = 0 // the default
	if _, answer = e.iq(t, "alice@example.com/desk", query("", "<max>10</max>")); answer.Get("type") != "result" {
		t.Fatalf("query within the default deadline: %s", answer)
	}
}
