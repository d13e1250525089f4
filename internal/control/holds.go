package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/internal/jid"
	"parley/internal/store"
)

// Errors of hold handling, with stable identities.
var (
	ErrNoHolds = errors.New("control: this store keeps no legal holds")
	ErrBadHold = errors.New("control: bad legal hold")
)

// Bounds of a hold's request.
const (
	maxHoldName    = 200
	maxHoldReason  = 2000
	maxHoldTargets = 1000
)

// CreateHold places a legal hold (store.LegalHolds) by `by` ("cli",
// "admin-token:ID") and returns it as stored. Users are usernames or bare
// JIDs on the server's domain, rooms bare JIDs; at least one of either,
// a name, and From not after To. Accounts and rooms need not exist (a
// hold may be placed before an account is made, or after it is gone).
func (o *Ops) CreateHold(ctx context.Context, h store.LegalHold, by string) (store.LegalHold, error) {
	if o.Holds == nil {
		return store.LegalHold{}, ErrNoHolds
	}
	if err := o.checkHold(&h); err != nil {
		return store.LegalHold{}, err
	}
	h.CreatedBy, h.Created = by, time.Now().UTC()
	id, err := o.Holds.CreateHold(ctx, h)
	if err != nil {
		return store.LegalHold{}, err
	}
	return o.Holds.Hold(ctx, id)
}

func (o *Ops) checkHold(h *store.LegalHold) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadHold, fmt.Sprintf(format, a...))
	}
	switch {
	case h.Name == "" || len(h.Name) > maxHoldName:
		return bad("a name of 1 to %d bytes is required", maxHoldName)
	case len(h.Reason) > maxHoldReason:
		return bad("the reason is longer than %d bytes", maxHoldReason)
	case len(h.Users)+len(h.Rooms) == 0:
		return bad("name at least one user or room")
	case len(h.Users)+len(h.Rooms) > maxHoldTargets:
		return bad("more than %d users and rooms", maxHoldTargets)
	case !h.From.IsZero() && !h.To.IsZero() && h.From.After(h.To):
		return bad("from (%s) is after to (%s)", h.From.Format(time.RFC3339), h.To.Format(time.RFC3339))
	}
	users := make([]string, 0, len(h.Users))
	for _, u := range h.Users {
		name, err := o.usernameOf(u)
		if err != nil {
			return bad("%v", err)
		}
		users = append(users, name)
	}
	rooms := make([]string, 0, len(h.Rooms))
	for _, r := range h.Rooms {
		j, err := jid.Parse(r)
		if err != nil || j.Local() == "" || !j.IsBare() {
			return bad("%q is not a room's bare JID", r)
		}
		rooms = append(rooms, j.String())
	}
	h.Users, h.Rooms = slices.Compact(slices.Sorted(slices.Values(users))), slices.Compact(slices.Sorted(slices.Values(rooms)))
	h.From, h.To = h.From.UTC(), h.To.UTC()
	return nil
}

// usernameOf accepts a username or a bare JID on the server's domain.
func (o *Ops) usernameOf(s string) (string, error) {
	if !strings.ContainsAny(s, "@/") {
		u, err := jid.Localpart(s)
		if err != nil || u == "" {
			return "", fmt.Errorf("%q is not a valid username", s)
		}
		return u, nil
	}
	j, err := jid.Parse(s)
	if err != nil || j.Local() == "" || !j.IsBare() || j.Domain() != o.Domain.String() {
		return "", fmt.Errorf("%q is not a username or a bare JID on %s", s, o.Domain)
	}
	return j.Local(), nil
}

// ListHolds returns every hold, released ones too, oldest first.
func (o *Ops) ListHolds(ctx context.Context) ([]store.LegalHold, error) {
	if o.Holds == nil {
		return nil, ErrNoHolds
	}
	return o.Holds.ListHolds(ctx)
}

// ReleaseHold lifts an active hold by `by` and returns it as stored (its
// record is kept, with when and by whom it was released);
// store.ErrNotFound if there is no such active hold. Originals it kept
// stay kept; uploaded files it kept past their expiry (or their account)
// go now.
func (o *Ops) ReleaseHold(ctx context.Context, id int64, by string) (store.LegalHold, error) {
	if o.Holds == nil {
		return store.LegalHold{}, ErrNoHolds
	}
	if err := o.Holds.ReleaseHold(ctx, id, by, time.Now().UTC()); err != nil {
		return store.LegalHold{}, err
	}
	if o.Uploads != nil {
		o.Uploads.Forget("")
	}
	return o.Holds.Hold(ctx, id)
}

// ParseHoldID reads a hold's ID as the CLI and the API take it.
func ParseHoldID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %q is not a hold id", ErrBadHold, s)
	}
	return id, nil
}

// HoldDetails are a hold's audit record details.
func HoldDetails(h store.LegalHold, op string) map[string]string {
	d := map[string]string{"op": op, "id": strconv.FormatInt(h.ID, 10), "name": h.Name}
	if h.Reason != "" {
		d["reason"] = h.Reason
	}
	if len(h.Users) > 0 {
		d["users"] = fmt.Sprint(h.Users)
	}
	if len(h.Rooms) > 0 {
		d["rooms"] = fmt.Sprint(h.Rooms)
	}
	if !h.From.IsZero() {
		d["from"] = h.From.Format(time.RFC3339)
	}
	if !h.To.IsZero() {
		d["to"] = h.To.Format(time.RFC3339)
	}
	return d
}
