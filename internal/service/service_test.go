package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// capture is a Send that keeps what it was given.
type capture []*stanza.Stanza

func (c *capture) send(_ context.Context, st *stanza.Stanza) { *c = append(*c, st) }

// sent is the one stanza sent ("" for none) and its error condition.
func (c capture) sent(t *testing.T) (string, string) {
	t.Helper()
	switch len(c) {
	case 0:
		return "", ""
	case 1:
		cond := ""
		if e := c[0].El.Child("error", ""); e != nil && e.FirstChild() != nil {
			cond = e.FirstChild().Name
		}
		return c[0].Type, cond
	}
	t.Fatalf("%d stanzas sent", len(c))
	return "", ""
}

// TestRequest: what is a request to the service and what is answered
// or dropped instead (RFC 6120 §8.3.3.19).
func TestRequest(t *testing.T) {
	const q = "<query xmlns='urn:x'/>"
	for i, tc := range []struct {
		raw     string
		request bool
		refused string // the condition sent back, "" for nothing
	}{
		0:  {raw: "<iq type='get' id='1' from='a@example.com/r' to='svc.example.com'>" + q + "</iq>", request: true},
		1:  {raw: "<iq type='set' id='1' from='a@example.com/r' to='svc.example.com'>" + q + "</iq>", request: true},
		2:  {raw: "<iq type='get' id='1' to='svc.example.com'>" + q + "</iq>"}, // no sender
		3:  {raw: "", refused: "service-unavailable"},                          // an IQ get without a payload, which Parse refuses
		4:  {raw: "<iq type='get' id='1' from='a@example.com/r' to='x@svc.example.com'>" + q + "</iq>", refused: "service-unavailable"},
		5:  {raw: "<iq type='get' id='1' from='a@example.com/r' to='svc.example.com/x'>" + q + "</iq>", refused: "service-unavailable"},
		6:  {raw: "<iq type='result' id='1' from='a@example.com/r' to='svc.example.com'/>"},
		7:  {raw: "<iq type='error' id='1' from='a@example.com/r' to='svc.example.com'/>"},
		8:  {raw: "<message from='a@example.com/r' to='svc.example.com'><body>hi</body></message>", refused: "service-unavailable"},
		9:  {raw: "<message type='error' from='a@example.com/r' to='svc.example.com'/>"},
		10: {raw: "<message to='svc.example.com'><body>hi</body></message>"},
		11: {raw: "<presence from='a@example.com/r' to='svc.example.com'/>"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var c capture
			st := stanza.New(stanza.IQ, jid.MustParse("a@example.com/r"), jid.MustParse("svc.example.com"), "get", "1")
			if tc.raw != "" {
				st = imtest.Parse(t, tc.raw)
			}
			got := Request(context.Background(), c.send, st)
			if (got != nil) != tc.request || got != nil && got.Name != "query" {
				t.Errorf("request %v", got)
			}
			typ, cond := c.sent(t)
			if cond != tc.refused || tc.refused != "" && typ != "error" {
				t.Errorf("sent %q %q, want %q", typ, cond, tc.refused)
			}
		})
	}
}

// TestAnswer: a result with the payload, a stanza error as it is, any
// other error logged and answered with internal-server-error.
func TestAnswer(t *testing.T) {
	st := imtest.Parse(t, "<iq type='get' id='1' from='a@example.com/r' to='svc.example.com'><query xmlns='urn:x'/></iq>")
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	for _, tc := range []struct {
		payload   *xmlstream.Element
		err       error
		typ, cond string
	}{
		{payload: xmlstream.New("query", "urn:x"), typ: "result"},
		{typ: "result"},
		{err: stanza.ErrNotAllowed.WithText("no"), typ: "error", cond: "not-allowed"},
		{err: errors.New("disk on fire"), typ: "error", cond: "internal-server-error"},
	} {
		var c capture
		Answer(context.Background(), c.send, log, st, tc.payload, tc.err)
		if typ, cond := c.sent(t); typ != tc.typ || cond != tc.cond || c[0].ID != "1" || c[0].To.String() != "a@example.com/r" {
			t.Errorf("%v: sent %s", tc.err, c[0].El)
		}
		if tc.payload != nil && c[0].El.Child("query", "urn:x") == nil {
			t.Errorf("result without its payload: %s", c[0].El)
		}
	}
	if s := logged.String(); strings.Count(s, "level=ERROR") != 1 || !strings.Contains(s, "disk on fire") || !strings.Contains(s, "service=svc.example.com") {
		t.Errorf("log %q", s)
	}
}
