package adminapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// described returns "METHOD path" of every operation in openapi.json.
func described(t *testing.T) []string {
	t.Helper()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var out []string
	for p, ops := range doc.Paths {
		for m := range ops {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIMatchesRoutes: every route is described and every described
// operation is a route (TestDescribedRoutesAnswer calls them).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	want := []string{"GET /api/v1/openapi.json", "POST /api/v1/me/token", "GET /api/v1/sso/login", "GET /api/v1/sso/callback"}
	for _, r := range allRoutes() {
		want = append(want, r.method+" "+r.path)
	}
	slices.Sort(want)
	got := described(t)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("route %s is not in openapi.json", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("openapi.json describes %s, which is no route", g)
		}
	}
}

// TestLoopbackOnly: on the plain HTTP listener only loopback clients are
// answered; the others are told to use HTTPS before any token is looked at.
func TestLoopbackOnly(t *testing.T) {
	a := New(Options{LoopbackOnly: true})
	for _, c := range []struct {
		remote string
		status int
	}{{"127.0.0.1:5000", 200}, {"[::1]:5000", 200}, {"192.0.2.1:5000", 403}, {"[2001:db8::1]:5000", 403}} {
		req, _ := http.NewRequest("GET", "/api/v1/openapi.json", nil)
		req.RemoteAddr = c.remote
		w := &recorder{h: http.Header{}}
		a.ServeHTTP(w, req)
		if w.status != c.status {
			t.Errorf("from %s: %d, want %d", c.remote, w.status, c.status)
		}
	}
}

type recorder struct {
	h      http.Header
	status int
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return len(b), nil
}
func (r *recorder) WriteHeader(s int) { r.status = s }
