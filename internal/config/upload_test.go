package config

import (
	"flag"
	"testing"
	"time"
)

func TestValidateUpload(t *testing.T) {
	checkValidate(t, []validateCase{
		0: {func(c *Config) {}, nil},
		1: {func(c *Config) { c.Upload.URL = "https://files.example.com/x" }, nil},
		2: {func(c *Config) { c.Upload.URL = "http://files.example.com" }, []string{`upload.url: "http://files.example.com" is not an https://`}},
		3: {func(c *Config) { c.Upload.URL = "https://" }, []string{`upload.url: "https://" is not an https://`}},
		4: {func(c *Config) { c.Upload.MaxFileSize = -1 }, []string{"upload.max_file_size: -1 is negative"}},
		5: {func(c *Config) { c.Upload.QuotaBytes = -1 }, []string{"upload.quota_bytes: -1 is negative"}},
		6: {func(c *Config) { c.Upload.DayBytes = -1 }, []string{"upload.day_bytes: -1 is negative"}},
		7: {func(c *Config) { c.Upload.Expire = Duration{-time.Hour} }, []string{"upload.expire: -1h0m0s is negative"}},
		8: {func(c *Config) { c.Upload.ContentTypes = []string{"image/*", "text/plain"} }, nil},
		9: {func(c *Config) { c.Upload.ContentTypes = []string{"images"} }, []string{`upload.content_types: "images" is not a media type`}},
		// The HTTPS listener is encrypted: allow_plaintext does not ask
		// for it to be on loopback.
		10: {func(c *Config) {
			c.AllowPlaintext = true
			c.Listen = Listen{C2S: "127.0.0.1:5222", C2STLS: Off, HTTP: "127.0.0.1:5280", HTTPS: ":5281"}
		}, nil},
		11: {func(c *Config) { c.Listen.HTTPS = ":5280" }, []string{`listen.https: ":5280" is already used by listen.http`}},
		12: {func(c *Config) { c.Listen.HTTPS = "nope" }, []string{`listen.https: "nope" is not a host:port`}},
	})
}

// TestHTTPSFlag: the listener is on at :5281 by default and --https off
// turns it off.
func TestHTTPSFlag(t *testing.T) {
	c := Default()
	if c.Listen.HTTPS != ":5281" || !c.Upload.Enabled {
		t.Fatalf("defaults: https %q, upload enabled %v", c.Listen.HTTPS, c.Upload.Enabled)
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"--https", "off"}); err != nil {
		t.Fatal(err)
	}
	if c.Listen.HTTPS != Off {
		t.Fatalf("--https off: %q", c.Listen.HTTPS)
	}
}
