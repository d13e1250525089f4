package httpapi

import (
	"encoding/json"
	"net/http"
)

// problem is an RFC 9457 problem details object. Type is left out: it
// then means "about:blank" (§4.2.1), and the status and title say it all.
type problem struct {
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// Problem answers with an RFC 9457 problem (application/problem+json,
// §3): the admin API's and the webhooks' errors.
func Problem(w http.ResponseWriter, r *http.Request, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problem{Title: title, Status: status, Detail: detail, Instance: r.URL.Path})
}
