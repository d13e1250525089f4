package xmpptest

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"parley/internal/xmlstream"
)

// Login dials addr and negotiates a session as o says, fails the test if
// that does not work within 20 s, and closes the stream when the test
// ends. It is the one login of the integration tests.
func Login(tb testing.TB, addr string, o Options) *Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, o)
	if err != nil {
		tb.Fatalf("login %s/%s: %v", o.User, o.Resource, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Online is Login followed by the initial presence.
func Online(tb testing.TB, addr string, o Options) *Client {
	tb.Helper()
	c := Login(tb, addr, o)
	MustSend(tb, c, "<presence/>")
	return c
}

// MustSend writes raw to c's stream and fails the test if it cannot.
func MustSend(tb testing.TB, c *Client, raw string) {
	tb.Helper()
	if err := c.Send(raw); err != nil {
		tb.Fatalf("%s: send: %v", c.JID, err)
	}
}

// MustExpect is Expect that fails the test, naming what it waited for,
// when nothing matched within timeout.
func MustExpect(tb testing.TB, c *Client, timeout time.Duration, what string, match func(*xmlstream.Element) bool) *xmlstream.Element {
	tb.Helper()
	el, err := c.Expect(timeout, match)
	if err != nil {
		tb.Fatalf("%s: waiting for %s: %v", c.JID, what, err)
	}
	return el
}

// MustIQ is IQ that fails the test when no response came within timeout.
func MustIQ(tb testing.TB, c *Client, timeout time.Duration, typ, to, payload string) *xmlstream.Element {
	tb.Helper()
	res, err := c.IQ(timeout, typ, to, payload)
	if err != nil {
		tb.Fatalf("%s: %s %s: %v", c.JID, typ, payload, err)
	}
	return res
}

// MustResult is MustIQ that also fails the test unless the response is a
// result.
func MustResult(tb testing.TB, c *Client, timeout time.Duration, typ, to, payload string) *xmlstream.Element {
	tb.Helper()
	res := MustIQ(tb, c, timeout, typ, to, payload)
	if res.Get("type") != "result" {
		tb.Fatalf("%s: %s %s: %s", c.JID, typ, payload, res)
	}
	return res
}

// ErrorConditions returns the names of an error stanza's conditions, the
// defined one and any application-specific one (XEP-0060's, say), joined
// by "+"; "" for a stanza that is not an error.
func ErrorConditions(el *xmlstream.Element) string {
	e := el.Child("error", "")
	if el.Get("type") != "error" || e == nil {
		return ""
	}
	var conds []string
	for _, c := range e.Children {
		if c.Name != "text" {
			conds = append(conds, c.Name)
		}
	}
	return strings.Join(conds, "+")
}

// StreamFeatures opens a client stream to domain on conn, a raw
// connection (DialRaw), and reads up to the end of the stream features,
// which it returns with the reader to read on from there.
func StreamFeatures(tb testing.TB, conn io.ReadWriter, domain string) (string, *bufio.Reader) {
	tb.Helper()
	if _, err := io.WriteString(conn, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='"+NSStream+"' to='"+xmlEscape(domain)+"' version='1.0'>"); err != nil {
		tb.Fatal(err)
	}
	r := bufio.NewReader(conn)
	var got strings.Builder
	for !strings.Contains(got.String(), "</stream:features>") {
		s, err := r.ReadString('>')
		if err != nil {
			tb.Fatalf("no features: %v (got %q)", err, got.String())
		}
		got.WriteString(s)
	}
	return got.String(), r
}
