package muc

import (
	"testing"
	"time"

	"parley/internal/xmlstream"
)

// requestForm builds a muc#request submission from "var=value" fields
// (FORM_TYPE first unless formType is "").
func requestForm(typ, formType string, fields ...string) string {
	return "<message to='" + coven + "'>" + dataForm(typ, formType, "", fields...) + "</message>"
}

var askVoice = requestForm("submit", NSRequest, "muc#role=participant")

func answer(nick, jid, allow string) string {
	return requestForm("submit", NSRequest, "muc#role=participant", "muc#jid="+jid, "muc#roomnick="+nick, "muc#request_allow="+allow)
}

// formValue returns the value of a field of the data form in el.
func formValue(el *xmlstream.Element, v string) string {
	x := el.Child("x", NSData)
	if x == nil {
		return ""
	}
	for _, f := range x.Children {
		if f.Name == "field" && f.Get("var") == v {
			return f.ChildText("value", NSData)
		}
	}
	return ""
}

// msgError is the error condition of the last message st got back.
func msgError(got []*xmlstream.Element) string { return errorOf(last(got, "message")) }

// speaks reports whether full's groupchat message reaches the room.
func speaks(h *harness, full, text string) bool {
	m := find(h.recv(full, "<message type='groupchat' to='"+coven+"'><body>"+text+"</body></message>"), body(text))
	return m != nil && m.Get("type") == "groupchat" // not the error bounce
}

var voiceRules = []rule{
	{"7.13_8.6_request_forwarded_and_approved", func(t *testing.T, h *harness) {
		threeWitches(h, "moderatedroom=1") // wiz and hag enter as visitors
		if got := h.recv(wiz, askVoice); len(got) != 0 {
			t.Fatalf("the requester got: %s", dump(got))
		}
		req := last(h.user(crone).take(), "message")
		if req == nil || req.Get("from") != coven || formValue(req, "FORM_TYPE") != NSRequest ||
			formValue(req, "muc#jid") != wiz || formValue(req, "muc#roomnick") != "wizard" ||
			formValue(req, "muc#request_allow") != "0" || req.Child("x", NSData).Get("type") != "form" {
			t.Fatalf("moderator's approval form: %v", req)
		}
		if m := last(h.user(hag).take(), "message"); m != nil {
			t.Fatalf("a visitor got the voice request: %s", m)
		}
		// The moderator submits the form back, allowed.
		if got := h.recv(crone, answer("wizard", wiz, "true")); msgError(got) != "" {
			t.Fatalf("approval: %s", dump(got))
		}
		p := find(h.user(wiz).take(), func(el *xmlstream.Element) bool { return hasCodes(el, codeSelf) })
		if it := item(p); it.Get("role") != "participant" || it.Child("actor", NSUser).Get("nick") != "firstwitch" {
			t.Fatalf("voice granted: %v", p)
		}
		if p := last(h.user(hag).take(), "presence"); item(p).Get("role") != "participant" {
			t.Fatalf("others told: %v", p)
		}
		if !speaks(h, wiz, "at last") {
			t.Fatal("voiced visitor not heard")
		}
	}},
	{"8.6_denied_or_cancelled_changes_nothing", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "moderatedroom=1")
		h.join(wiz, "coven", "wizard")
		h.send(wiz, askVoice)
		h.user(wiz).take()
		for _, raw := range []string{answer("wizard", wiz, "false"), answer("wizard", wiz, "0"),
			requestForm("cancel", "")} {
			if got := h.recv(crone, raw); len(got) != 0 {
				t.Fatalf("%s: %s", raw, dump(got))
			}
		}
		if got := h.user(wiz).take(); len(got) != 0 || speaks(h, wiz, "x") {
			t.Fatalf("denied visitor got voice: %s", dump(got))
		}
	}},
	{"7.13_who_may_ask", func(t *testing.T, h *harness) {
		threeWitches(h) // unmoderated: everyone has voice
		if c := msgError(h.recv(hag, askVoice)); c != "not-acceptable" {
			t.Fatalf("participant asks: %q", c)
		}
		if c := msgError(h.recv("stranger@example.com/x", askVoice)); c != "not-acceptable" {
			t.Fatalf("non-occupant asks: %q", c)
		}
		h.configure(crone, "coven", "moderatedroom=1", "allowvoicerequests=0")
		h.recv(crone, adminSet("<item nick='hag' role='visitor'/>"))
		if c := msgError(h.recv(hag, askVoice)); c != "not-allowed" {
			t.Fatalf("room without voice requests: %q", c)
		}
		h.configure(crone, "coven", "allowvoicerequests=1")
		h.send(crone, "<presence type='unavailable' to='"+coven+"/firstwitch'/>")
		if c := msgError(h.recv(hag, askVoice)); c != "recipient-unavailable" {
			t.Fatalf("no moderator present: %q", c)
		}
	}},
	{"7.13_rate_limited", func(t *testing.T, h *harness) {
		clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		h.svc.opts.Now = func() time.Time { return clock }
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "moderatedroom=1", "voicerequestmininterval=30")
		h.join(wiz, "coven", "wizard")
		h.send(wiz, askVoice)
		clock = clock.Add(29 * time.Second)
		h.user(crone).take()
		if c := msgError(h.recv(wiz, askVoice)); c != "resource-constraint" {
			t.Fatalf("second request within the interval: %q", c)
		}
		if m := last(h.user(crone).take(), "message"); m != nil {
			t.Fatalf("rate-limited request forwarded: %s", m)
		}
		clock = clock.Add(time.Second)
		if got := h.recv(wiz, askVoice); len(got) != 0 || last(h.user(crone).take(), "message") == nil {
			t.Fatalf("request after the interval: %s", dump(got))
		}
		h.configure(crone, "coven", "voicerequestmininterval=0")
		if got := h.recv(wiz, askVoice); len(got) != 0 {
			t.Fatalf("no limit: %s", dump(got))
		}
	}},
	{"7.13_malformed_requests_bad_request", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "moderatedroom=1")
		h.join(wiz, "coven", "wizard")
		for i, raw := range []string{
			requestForm("submit", "urn:other", "muc#role=participant"),
			requestForm("submit", "", "muc#role=participant"),
			requestForm("form", NSRequest, "muc#role=participant"),
			requestForm("submit", NSRequest, "muc#role=moderator"),
			requestForm("submit", NSRequest),
			requestForm("submit", NSRequest, "muc#role=participant", "muc#role=participant"),
		} {
			if c := msgError(h.recv(wiz, raw)); c != "bad-request" {
				t.Errorf("%d: %q, want bad-request", i, c)
			}
		}
	}},
	{"8.6_bad_answers", func(t *testing.T, h *harness) {
		threeWitches(h, "moderatedroom=1")
		for i, tc := range []struct{ from, raw, want string }{
			{hag, answer("wizard", wiz, "true"), "forbidden"}, // not a moderator
			{"stranger@example.com/x", answer("wizard", wiz, "true"), "not-acceptable"},
			{crone, answer("ghost", wiz, "true"), "item-not-found"},
			{crone, answer("wizard", hag, "true"), "item-not-found"}, // stale form
			{crone, answer("wizard", "@@", "true"), "bad-request"},
			{crone, answer("wizard", wiz, "maybe"), "bad-request"},
			{crone, answer("", wiz, "true"), "bad-request"},
			{crone, requestForm("submit", NSRequest, "muc#role=visitor", "muc#roomnick=wizard", "muc#request_allow=1"), "bad-request"},
		} {
			if c := msgError(h.recv(tc.from, tc.raw)); c != tc.want {
				t.Errorf("%d: %q, want %s", i, c, tc.want)
			}
		}
		if speaks(h, wiz, "x") {
			t.Fatal("a bad answer granted voice")
		}
		// An answer without muc#role or muc#jid is still an answer.
		h.send(crone, requestForm("submit", NSRequest, "muc#roomnick=wizard", "muc#request_allow=1"))
		if !speaks(h, wiz, "y") {
			t.Fatal("minimal answer ignored")
		}
	}},
	{"10.2_voice_request_config", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		got := h.recv(crone, "<iq type='get' id='g' to='"+coven+"'><query xmlns='"+NSOwner+"'/></iq>")
		q := last(got, "iq").Child("query", NSOwner)
		if formValue(q, fAllowVoiceRequests) != "1" || formValue(q, fVoiceRequestInterval) != "60" {
			t.Fatalf("config form defaults: %s", dump(got))
		}
		for i, v := range []string{"-1", "abc", "", "86401"} {
			got := h.recv(crone, "<iq type='set' id='s' to='"+coven+"'><query xmlns='"+NSOwner+"'>"+form("voicerequestmininterval="+v)+"</query></iq>")
			if c := iqError(got, "s"); c != "not-acceptable" {
				t.Errorf("%d: interval %q: %s", i, v, c)
			}
		}
	}},
}

func TestVoiceRequests(t *testing.T) { runRules(t, voiceRules) }
