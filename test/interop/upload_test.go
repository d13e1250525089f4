package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest/testserver"
)

// TestSendxmppHTTPUpload: go-sendxmpp's --http-upload (a XEP-0363 client
// nobody here wrote) finds upload.localhost by service discovery, gets a
// slot, PUTs the file over HTTPS and sends bob the GET URL; bob downloads
// the same bytes. go-sendxmpp's --no-tls-verify covers only the XMPP
// connection: its PUT verifies the certificate (without SSL_CERT_FILE it
// fails with "certificate signed by unknown authority"), so the server's
// self-signed one is given as a trusted root, as an operator's CA would be.
func TestSendxmppHTTPUpload(t *testing.T) {
	sendxmpp := requireSendxmpp(t)
	srv := testserver.Start(t, func(c *config.Config) { c.Listen.HTTPS = "127.0.0.1:0" })
	srv.AddUsers(t, password, "alice", "bob")
	bob := srv.Online(t, "bob", password, "laptop")

	data := make([]byte, 200000)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "holiday.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(srv.Config.Data, "tls", "localhost.crt")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sendxmpp, "--username", "alice@localhost", "--password", password,
		"--jserver", srv.C2S(), "--no-tls-verify", "--timeout", "20", "--http-upload", file, "bob@localhost")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "SSL_CERT_FILE="+certFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go-sendxmpp --http-upload failed (%v):\n%s", err, out)
	}
	msg, err := bob.Expect(20*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "message" && strings.HasPrefix(el.ChildText("body", "jabber:client"), "https://")
	})
	if err != nil {
		t.Fatalf("bob got no URL: %v", err)
	}
	url := strings.TrimSpace(msg.ChildText("body", "jabber:client"))
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("bob downloaded %d bytes, not the %d bytes go-sendxmpp uploaded", len(got), len(data))
	}
}
