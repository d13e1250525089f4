package adminapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// readJSON decodes the request body (bounded by guard's MaxBytesReader)
// into v: one object, no unknown fields, nothing after it.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("body: " + err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("body: one JSON object expected")
	}
	return nil
}

// page is a list response: the items, and the cursor of the next page
// when there is one.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Cursors are opaque to clients (base64url of the last key returned, so
// that a client cannot build one from a guess at the order and we can
// change what is inside); "c1." is their version.
const cursorVersion = "c1."

func encodeCursor(key string) string {
	return cursorVersion + base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	if len(c) < len(cursorVersion) || c[:len(cursorVersion)] != cursorVersion {
		return "", badRequest("cursor: not one this API returned")
	}
	b, err := base64.RawURLEncoding.DecodeString(c[len(cursorVersion):])
	if err != nil {
		return "", badRequest("cursor: not one this API returned")
	}
	return string(b), nil
}

// pageLimit reads ?limit=.
func pageLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return DefaultPageSize, nil
	}
	limit, err := strconv.Atoi(s)
	if err != nil || limit < 1 || limit > MaxPageSize {
		return 0, badRequest(fmt.Sprintf("limit: want 1 to %d", MaxPageSize))
	}
	return limit, nil
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(r *http.Request) (limit int, after string, err error) {
	if limit, err = pageLimit(r); err != nil {
		return 0, "", err
	}
	after, err = decodeCursor(r.URL.Query().Get("cursor"))
	return limit, after, err
}

// timeRange reads ?start= and ?end= from v (RFC 3339; absent, the zero
// time).
func timeRange(v url.Values) (start, end time.Time, err error) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"start", &start}, {"end", &end}} {
		if s := v.Get(p.name); s != "" {
			if *p.t, err = time.Parse(time.RFC3339, s); err != nil {
				return time.Time{}, time.Time{}, badRequest(p.name + ": want an RFC 3339 time (2025-03-04T05:06:07Z)")
			}
		}
	}
	return start, end, nil
}

// seqPageParams is pageParams for a list paged by sequence number (an
// ID): the cursor is the last one returned.
func seqPageParams(r *http.Request) (limit int, after int64, err error) {
	limit, cursor, err := pageParams(r)
	if err != nil || cursor == "" {
		return limit, 0, err
	}
	if after, err = strconv.ParseInt(cursor, 10, 64); err != nil || after < 0 {
		return 0, 0, badRequest("cursor: not one this API returned")
	}
	return limit, after, nil
}

// seqPage is the page of list, read with one more item than limit to
// tell whether a next page follows, each item as show shows it; the next
// page's cursor is the sequence number (seq) of the page's last item.
func seqPage[S, T any](list []S, limit int, seq func(S) int64, show func(S) T) page[T] {
	p := page[T]{Items: make([]T, 0, min(len(list), limit))}
	for i, x := range list {
		if i == limit {
			p.Next = encodeCursor(strconv.FormatInt(seq(list[i-1]), 10))
			break
		}
		p.Items = append(p.Items, show(x))
	}
	return p
}

// paginate returns the page of items (sorted by key) after the key after.
func paginate[T any](items []T, key func(T) string, after string, limit int) page[T] {
	i := 0
	if after != "" {
		for i < len(items) && key(items[i]) <= after {
			i++
		}
	}
	p := page[T]{Items: items[i:min(i+limit, len(items))]}
	if p.Items == nil {
		p.Items = []T{}
	}
	if i+limit < len(items) {
		p.Next = encodeCursor(key(p.Items[len(p.Items)-1]))
	}
	return p
}
