package upload

import (
	"context"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"parley/internal/store"
)

// Path is where the handler serves slots: Path + id + "/" + file name.
const Path = "/upload/"

// Handler serves the slots' URLs: PUT stores a file, GET (and HEAD) serve
// it, OPTIONS answers the CORS preflight of web clients. Mount it at Path.
func (m *Module) Handler() http.Handler {
	mux := http.NewServeMux()
	p := Path + "{id}/{name}"
	mux.HandleFunc("PUT "+p, m.put)
	mux.HandleFunc("GET "+p, m.get)
	mux.HandleFunc("OPTIONS "+p, m.preflight)
	return cors(mux)
}

// cors lets web clients on other origins upload and download (XEP-0363
// expects the HTTP service to be usable from browsers: without these a
// page on another origin can neither PUT nor read the response). Nothing
// here depends on cookies or ambient authority, so any origin is fine.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges, ETag")
		h.ServeHTTP(w, r)
	})
}

func (m *Module) preflight(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Content-Type, Range")
	hd.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// put stores the body of a signed PUT (XEP-0363 §6). Everything is
// checked before a byte is read: the signature covers the slot, the
// Content-Length and the Content-Type the client must send, and the store
// lets only one PUT claim a slot; the body is then read up to the slot's
// size and not a byte further.
func (m *Module) put(w http.ResponseWriter, r *http.Request) {
	id, name := r.PathValue("id"), r.PathValue("name")
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("e"), 10, 64)
	if err != nil || q.Get("s") == "" {
		m.refuse(w, r, http.StatusForbidden, "not a signed upload URL")
		return
	}
	if r.ContentLength < 0 {
		m.refuse(w, r, http.StatusLengthRequired, "Content-Length is required")
		return
	}
	// XEP-0363 §6: a PUT without a Content-Type may be taken as
	// application/octet-stream, and only a type declared in the slot
	// request must match; a slot declared none (signed over "") takes
	// any and serves application/octet-stream.
	ctype := r.Header.Get("Content-Type")
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sig := q.Get("s")
	if !validSignature(m.o.Secret, sig, id, r.ContentLength, ctype, exp) {
		if !validSignature(m.o.Secret, sig, id, r.ContentLength, "", exp) {
			m.refuse(w, r, http.StatusForbidden, "the URL's signature does not match it, the Content-Length or the Content-Type")
			return
		}
		ctype = ""
	}
	now := m.clock.Now()
	if now.Unix() >= exp {
		m.refuse(w, r, http.StatusForbidden, "the upload URL has expired")
		return
	}
	ctx := r.Context()
	u, err := m.o.Store.Upload(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		m.refuse(w, r, http.StatusNotFound, "no such slot")
		return
	case err != nil:
		m.fail(w, r, err)
		return
	case u.Name != name || u.Size != r.ContentLength || u.ContentType != ctype:
		m.refuse(w, r, http.StatusForbidden, "the request does not match the slot")
		return
	}
	if ok, err := m.ownerActive(ctx, u.Owner); err != nil {
		m.fail(w, r, err)
		return
	} else if !ok {
		m.refuse(w, r, http.StatusForbidden, "the uploader's account is disabled")
		return
	}
	if err := m.o.Store.ClaimUpload(ctx, id, now, now.Add(m.o.PutTimeout)); errors.Is(err, store.ErrNotFound) {
		m.refuse(w, r, http.StatusConflict, "the slot has been used or has expired")
		return
	} else if err != nil {
		m.fail(w, r, err)
		return
	}
	// A network deadline, on the real clock whatever the service's is.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(m.o.PutTimeout)); err != nil {
		m.o.Log.Debug("upload: no read deadline", "err", err)
	}
	// What follows the claim must finish even when the client goes away
	// (its request's context ends then), or the slot stays claimed.
	ctx = context.WithoutCancel(ctx)
	body := http.MaxBytesReader(w, r.Body, u.Size)
	if err := m.o.Blobs.Put(id, body, u.Size); err != nil {
		// The slot stays usable until it expires: a client whose
		// connection broke may try again.
		if rerr := m.o.Store.ReleaseUpload(ctx, id); rerr != nil {
			m.o.Log.Warn("upload: release slot", "id", id, "err", rerr)
		}
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, ErrBody) || errors.As(err, &tooBig):
			m.refuse(w, r, http.StatusBadRequest, "the body is not Content-Length bytes long")
		default:
			m.fail(w, r, err)
		}
		return
	}
	if err := m.o.Store.FinishUpload(ctx, id, now, now.Add(m.o.Expire)); err != nil {
		// Not recorded as stored: the file goes with the slot's row at
		// its expiry, or now.
		m.o.Blobs.Delete(id)
		m.fail(w, r, err)
		return
	}
	m.o.Log.Info("upload: stored", "id", id, "owner", u.Owner, "bytes", u.Size)
	w.WriteHeader(http.StatusCreated)
}

// get serves a stored file with headers that keep a browser from running
// it in the service's origin: the stored type with nosniff, a content
// security policy that allows nothing, and attachment disposition for
// anything but plain media. http.ServeContent answers ranges and
// conditional requests against the ETag.
func (m *Module) get(w http.ResponseWriter, r *http.Request) {
	id, name := r.PathValue("id"), r.PathValue("name")
	u, err := m.o.Store.Upload(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil &&
		(u.State != store.UploadStored || u.Name != name || !u.Expires.After(m.clock.Now()))) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	// A disabled owner's file is answered as absent: whoever holds the
	// URL learns nothing about the account.
	if ok, err := m.ownerActive(r.Context(), u.Owner); err != nil {
		m.fail(w, r, err)
		return
	} else if !ok {
		m.o.Log.Info("upload: refused", "method", r.Method, "id", id, "reason", "owner disabled")
		http.NotFound(w, r)
		return
	}
	f, err := m.o.Blobs.Open(id)
	if errors.Is(err, fs.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	defer f.Close()
	hd := w.Header()
	ctype := u.ContentType
	if ctype == "" {
		ctype = "application/octet-stream" // none declared (§6)
	}
	hd.Set("Content-Type", ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'")
	hd.Set("Content-Disposition", mime.FormatMediaType(disposition(ctype), map[string]string{"filename": u.Name}))
	hd.Set("ETag", `"`+id+`"`) // a slot's content never changes
	hd.Set("Cache-Control", "private, max-age="+strconv.FormatInt(int64(u.Expires.Sub(m.clock.Now())/time.Second), 10))
	http.ServeContent(w, r, "", u.Created, f)
}

// ownerActive reports whether owner's account may hand out files: it
// exists and is not disabled (Options.Accounts; true without it).
func (m *Module) ownerActive(ctx context.Context, owner string) (bool, error) {
	if m.o.Accounts == nil {
		return true, nil
	}
	acc, err := m.o.Accounts.GetUser(ctx, owner)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !acc.Disabled, nil
}

// disposition is inline only for media a browser displays without running
// anything (images other than SVG, audio, video, plain text); everything
// else, HTML, SVG, XML and scripts above all, is a download.
func disposition(ctype string) string {
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return "attachment"
	}
	switch mt {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "text/plain":
		return "inline"
	}
	if strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/") {
		return "inline"
	}
	return "attachment"
}

func (m *Module) refuse(w http.ResponseWriter, r *http.Request, code int, why string) {
	m.o.Log.Info("upload: refused", "method", r.Method, "path", r.URL.Path, "status", code, "reason", why)
	http.Error(w, why, code)
}

func (m *Module) fail(w http.ResponseWriter, r *http.Request, err error) {
	m.o.Log.Error("upload: failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
