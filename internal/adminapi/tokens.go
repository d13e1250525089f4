package adminapi

import (
	"net/http"
	"time"
)

// token is an API token as the API shows it: never the token or its hash.
type token struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	User    string    `json:"user,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
}

func listTokens(a *API, w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	list, err := a.o.Ops.ListTokens(r.Context())
	if err != nil {
		return err
	}
	out := make([]token, 0, len(list))
	for _, t := range list {
		v := token{ID: t.ID, Name: t.Name, Role: t.Role, Created: t.Created.UTC(), Expires: t.Expires.UTC()}
		if t.Username != "" {
			v.User = t.Username + "@" + a.o.Ops.Domain.String()
		}
		out = append(out, v)
	}
	// Paged in creation order; the cursor is the position's id.
	return writeJSON(w, http.StatusOK, paginateOrdered(out, func(t token) string { return t.ID }, after, limit))
}

func revokeToken(a *API, w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	setTarget(r, "token:"+id)
	if err := a.o.Ops.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// paginateOrdered is paginate for items not sorted by key: the page
// starts after the item whose key is after.
func paginateOrdered[T any](items []T, key func(T) string, after string, limit int) page[T] {
	i := 0
	if after != "" {
		for i < len(items) && key(items[i]) != after {
			i++
		}
		i++
	}
	i = min(i, len(items))
	p := page[T]{Items: items[i:min(i+limit, len(items))]}
	if i+limit < len(items) {
		p.Next = encodeCursor(key(p.Items[len(p.Items)-1]))
	}
	return p
}
