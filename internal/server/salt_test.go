package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/server"
	"parley/internal/xmlstream"
)

// The salt a server presents for an account that does not exist is the
// same after a restart, as a real account's is (issue 9 item 13), and the
// secret behind it is a file only the owner can read.
func TestUnknownUserSaltSurvivesRestart(t *testing.T) {
	data := t.TempDir()
	first := saltOf(t, data, "ghost")
	if again := saltOf(t, data, "ghost"); again != first {
		t.Fatalf("salt of an unknown user changed across a restart: %q then %q", first, again)
	}
	if other := saltOf(t, data, "phantom"); other == first {
		t.Errorf("two unknown users share the salt %q", first)
	}
	fi, err := os.Stat(filepath.Join(data, "sasl.secret"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("sasl.secret mode %v, want 0600", fi.Mode().Perm())
	}
}

// saltOf starts a server on data, asks it for SCRAM-SHA-256 as user over a
// plaintext loopback stream, stops it and returns the salt of its
// server-first message.
func saltOf(t *testing.T, data, user string) string {
	t.Helper()
	cfg := config.Default()
	cfg.Data = data
	cfg.AllowPlaintext = true
	cfg.Listen = config.Listen{C2S: "127.0.0.1:0", C2STLS: config.Off, HTTP: config.Off}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	c, err := net.Dial("tcp", srv.Addr("c2s").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	io.WriteString(c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
	r := xmlstream.NewReader(bufio.NewReader(c), xmlstream.Limits{})
	for {
		tok, err := r.Next()
		if err != nil {
			t.Fatalf("reading features: %v", err)
		}
		if tok.Kind == xmlstream.StreamElement && tok.El.Name == "features" {
			break
		}
	}
	first := base64.StdEncoding.EncodeToString([]byte("n,,n=" + user + ",r=clientnonce"))
	io.WriteString(c, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>"+first+"</auth>")
	tok, err := r.Next()
	if err != nil || tok.El == nil || tok.El.Name != "challenge" {
		t.Fatalf("want a challenge, got %v %v", tok.El, err)
	}
	msg, err := base64.StdEncoding.DecodeString(tok.El.Text)
	if err != nil {
		t.Fatal(err)
	}
	for _, attr := range strings.Split(string(msg), ",") {
		if s, ok := strings.CutPrefix(attr, "s="); ok {
			return s
		}
	}
	t.Fatalf("no salt in %q", msg)
	return ""
}
