package config

import (
	"fmt"
	"mime"
	"net/url"
	"strings"
)

// Upload configures HTTP File Upload (XEP-0363) at upload.<domain>. The
// service runs when Enabled and there is an https URL to give clients:
// the [listen] https listener's, or URL (clients refuse http URLs).
// Zero limits mean the documented defaults (docs/SECURITY.md, Uploads).
type Upload struct {
	Enabled bool `toml:"enabled"`
	// URL is the public base URL of the HTTPS listener (or of a proxy in
	// front of it), such as "https://files.example.com"; the upload
	// handler is under /upload/ there. Empty means https://<domain>:<the
	// https listener's port>.
	URL string `toml:"url"`
	// MaxFileSize is the largest file in bytes (default 100 MiB).
	MaxFileSize int64 `toml:"max_file_size"`
	// QuotaBytes is what one account may keep (default 1 GiB) and
	// DayBytes what it may upload in 24 hours (default 256 MiB); over
	// either a slot request gets resource-constraint with a retry time.
	QuotaBytes int64 `toml:"quota_bytes"`
	DayBytes   int64 `toml:"day_bytes"`
	// Expire is how long a file is kept (default 720h, 30 days).
	Expire Duration `toml:"expire"`
	// ContentTypes are the media types accepted ("image/*" matches a
	// whole type); empty accepts any.
	ContentTypes []string `toml:"content_types"`
}

func (u *Upload) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: "upload." + key, Msg: fmt.Sprintf(format, args...)})
	}
	if u.URL != "" {
		p, err := url.Parse(u.URL)
		if err != nil || p.Scheme != "https" || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			bad("url", "%q is not an https://host[:port][/path] URL (clients refuse other schemes)", u.URL)
		}
	}
	notNegative(&errs, "upload.max_file_size", u.MaxFileSize)
	notNegative(&errs, "upload.quota_bytes", u.QuotaBytes)
	notNegative(&errs, "upload.day_bytes", u.DayBytes)
	notNegative(&errs, "upload.expire", u.Expire.Duration)
	for _, t := range u.ContentTypes {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil || !strings.Contains(mt, "/") {
			bad("content_types", "%q is not a media type such as image/png or image/*", t)
		}
	}
	return errs
}
