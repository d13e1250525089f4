package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/store"
)

const holdSynopsis = "hold create --name NAME [--reason TEXT] [--user JID]... [--room JID]... [--from DATE] [--to DATE] | hold list | hold release ID"

// holdSubs are the subcommands of hold and their positional arguments.
var holdSubs = map[string]string{"create": "", "list": "", "release": "hold ID"}

// runHold manages legal holds through the running server's control
// socket, or the store when no server runs (operate).
func runHold(args []string, stdout, stderr io.Writer) error {
	sub, args, fs, err := subcommand("hold", holdSynopsis, holdSubs, args, stderr)
	if err != nil {
		return err
	}
	var name, reason, from, to *string
	users, rooms := listFlag{comma: true}, listFlag{comma: true}
	if sub == "create" {
		name = fs.String("name", "", "the hold's `name` (a matter or case), required")
		reason = fs.String("reason", "", "why it is placed (`text`)")
		fs.Var(&users, "user", "an account (`JID`) whose archive it keeps; repeat or separate with commas")
		fs.Var(&rooms, "room", "a room (`JID`) whose archive it keeps; repeat or separate with commas")
		from = fs.String("from", "", "keep messages from this `date` (2026-01-31, UTC, or RFC 3339); default: all before")
		to = fs.String("to", "", "keep messages up to this `date`'s end (or RFC 3339 time); default: all after")
	}
	cfg, pos, err := subcommandConfig(fs, args, holdSubs[sub])
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch sub {
	case "create":
		h := store.LegalHold{Name: *name, Reason: *reason, Users: users.list, Rooms: rooms.list}
		if h.From, err = parseTime("--from", *from, false); err != nil {
			return err
		}
		if h.To, err = parseTime("--to", *to, true); err != nil {
			return err
		}
		return holdChange(ctx, cfg, control.Request{Op: "hold.create", Hold: &h}, stdout)
	case "list":
		resp, err := operate(ctx, cfg, false, control.Request{Op: "hold.list"})
		if err != nil {
			return err
		}
		return holdList(resp.Holds, cfg.Domain, stdout)
	}
	if _, err := control.ParseHoldID(pos[0]); err != nil {
		return usageError{err}
	}
	return holdChange(ctx, cfg, control.Request{Op: "hold.release", ID: pos[0]}, stdout)
}

// holdChange creates or releases a hold.
func holdChange(ctx context.Context, cfg config.Config, req control.Request, stdout io.Writer) error {
	resp, err := operate(ctx, cfg, false, req)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no active hold %s", req.ID)
	}
	if err != nil {
		return err
	}
	if len(resp.Holds) != 1 {
		return errors.New("hold: the server answered without the hold")
	}
	h := resp.Holds[0]
	if req.Op == "hold.create" {
		fmt.Fprintf(stdout, "hold %d placed: %s\n", h.ID, holdScope(h, cfg.Domain))
	} else {
		fmt.Fprintf(stdout, "hold %d released (its record and the originals it kept stay)\n", h.ID)
	}
	return nil
}

// holdScope describes what a hold covers.
func holdScope(h store.LegalHold, domain string) string {
	var parts []string
	for _, u := range h.Users {
		parts = append(parts, u+"@"+domain)
	}
	parts = append(parts, h.Rooms...)
	span := "all dates"
	switch {
	case !h.From.IsZero() && !h.To.IsZero():
		span = h.From.Format(time.RFC3339) + " to " + h.To.Format(time.RFC3339)
	case !h.From.IsZero():
		span = "from " + h.From.Format(time.RFC3339)
	case !h.To.IsZero():
		span = "up to " + h.To.Format(time.RFC3339)
	}
	return strings.Join(parts, ", ") + " (" + span + ")"
}

func holdList(list []store.LegalHold, domain string, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCOVERS\tCREATED\tBY\tREASON")
	for _, h := range list {
		state := "active"
		if !h.Active() {
			state = "released " + h.Released.Format(time.RFC3339) + " by " + h.ReleasedBy
		}
		reason := h.Reason
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Name, state, holdScope(h, domain),
			h.Created.Format(time.RFC3339), h.CreatedBy, reason)
	}
	return tw.Flush()
}
