package adminapi

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzCursor: any cursor a client sends decodes to a key or a 400, never
// a panic; the cursors the API makes decode to the key they hold.
func FuzzCursor(f *testing.F) {
	f.Add("alice", "c1.YWxpY2U")
	f.Add("", "c1.")
	f.Add("alice@localhost/phone", "garbage")
	f.Fuzz(func(t *testing.T, key, cursor string) {
		got, err := decodeCursor(encodeCursor(key))
		if err != nil || got != key {
			t.Fatalf("round trip of %q: %q, %v", key, got, err)
		}
		if _, err := decodeCursor(cursor); err != nil {
			if he, ok := err.(*httpError); !ok || he.status != http.StatusBadRequest {
				t.Fatalf("decodeCursor(%q): %v, want a 400", cursor, err)
			}
		}
	})
}

// FuzzBearer: the Authorization header parses to a token only with the
// Bearer scheme (RFC 6750 §2.1, case-insensitive per RFC 9110 §11.1).
func FuzzBearer(f *testing.F) {
	f.Add("Bearer parley_abc")
	f.Add("bearer  x ")
	f.Add("Basic YWxpY2U6cHc=")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		tok, given := bearer(r)
		if given != (r.Header.Get("Authorization") != "") {
			t.Fatalf("%q: given %v", h, given)
		}
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if tok != "" && !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("%q: token %q under scheme %q", h, tok, scheme)
		}
	})
}

// FuzzSafeName: an uploaded file's name, whatever the uploader chose,
// becomes one path element of the export archive: no separator, never
// "." or "..", never empty (a ZIP entry cannot escape uploads/ID/).
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"cat.png", "../../etc/passwd", `..\..\boot.ini`, "", "/", ".", "a/b/", "résumé.pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := safeName(name)
		if got == "" || got == "." || got == ".." || strings.ContainsAny(got, `/\`) {
			t.Fatalf("safeName(%q) = %q", name, got)
		}
	})
}
