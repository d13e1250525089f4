package httpapi

import "net/http"

// hstsMaxAge is a year, the value browsers' preload lists ask for; a
// server reached over HTTPS once is then never asked over plain HTTP.
const hstsMaxAge = "max-age=31536000"

// HSTS marks every response of the HTTPS listener with
// Strict-Transport-Security (RFC 6797 §6.1), so that a browser that has
// reached the host over HTTPS refuses a plain HTTP downgrade. Only the
// HTTPS listener may send it (§7.2: a UA ignores it over plain HTTP);
// subdomains are not included, since the server cannot know them all.
func HSTS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsMaxAge)
		h.ServeHTTP(w, r)
	})
}
