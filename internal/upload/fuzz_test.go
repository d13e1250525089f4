package upload

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzSlotName: a file name the service accepts comes back unchanged from
// the URL it is put in (the handler's {name}), stays one path segment, and
// the request's attributes never panic the checks.
func FuzzSlotName(f *testing.F) {
	for _, s := range []string{"my-juliet.jpg", "a b.png", "x?y#z%41.txt", "ünïcødé.pdf", "..", "a/b", `a\b`, "a\x00b", "%2e%2e", ";", ""} {
		f.Add(s, "12", "image/png")
	}
	m := New(Options{})
	mux := http.NewServeMux()
	var got string
	mux.HandleFunc("GET "+Path+"{id}/{name}", func(_ http.ResponseWriter, r *http.Request) { got = r.PathValue("name") })
	f.Fuzz(func(t *testing.T, name, size, ctype string) {
		m.contentType(ctype)
		if badName(name, DefaultMaxNameBytes) != "" {
			return
		}
		u := slotURL("https://example.com", "AAAAAAAAAAAAAAAAAAAAAA", name)
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatalf("accepted name %q makes a bad URL %s: %v", name, u, err)
		}
		got = "\x00unset"
		mux.ServeHTTP(nopWriter{}, req)
		if got != name {
			t.Fatalf("name %q came back as %q from %s", name, got, u)
		}
		if strings.Count(req.URL.EscapedPath(), "/") != 3 {
			t.Fatalf("name %q is more than one path segment: %s", name, u)
		}
	})
}

type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}
