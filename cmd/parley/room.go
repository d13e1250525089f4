package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"parley/internal/control"
	"parley/internal/im/muc"
	"parley/internal/jid"
	"parley/internal/store"
)

const roomSynopsis = "room create|list|destroy [flags] [ROOM]"

// roomSubs are the subcommands of room and their positional arguments.
var roomSubs = map[string]string{"create": "room", "list": "", "destroy": "room"}

// runRoom manages persistent group chat rooms in the store (XEP-0045
// service conference.<domain>). ROOM is name@conference.<domain> or a bare
// name. A running server loads a created room on its first use; destroy
// goes through a running server's control socket, so that the occupants
// of a loaded room are told.
func runRoom(args []string, stdout, stderr io.Writer) error {
	sub, args, fs, err := subcommand("room", roomSynopsis, roomSubs, args, stderr)
	if err != nil {
		return err
	}
	var owner, name, description *string
	var membersOnly, hidden *bool
	if sub == "create" {
		owner = fs.String("owner", "", "owner's bare `JID` (required)")
		name = fs.String("name", "", "the room's display `name`")
		description = fs.String("description", "", "the room's `description`")
		membersOnly = fs.Bool("members-only", false, "only members may join")
		hidden = fs.Bool("hidden", false, "leave the room out of the service's room list")
	}
	wantRoom := roomSubs[sub] != ""
	cfg, pos, err := subcommandConfig(fs, args, roomSubs[sub])
	if err != nil {
		return err
	}
	service := "conference." + cfg.Domain
	var room jid.JID
	if wantRoom {
		if room, err = roomJID(pos[0], service); err != nil {
			return usageError{err}
		}
	}

	ctx := context.Background()
	if sub == "destroy" {
		// On a running server the MUC service destroys it, telling the
		// occupants of a loaded room (XEP-0045 §10.9).
		_, err := operate(ctx, cfg, false, control.Request{Op: "room.destroy", Room: room.String()})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("no room %s", room)
		case err != nil:
			return err
		}
		fmt.Fprintf(stdout, "destroyed %s\n", room)
		return nil
	}
	st, err := openStore(ctx, cfg, sub == "create")
	if err != nil {
		return err
	}
	defer st.Close()
	rooms, ok := st.(store.Rooms)
	if !ok {
		return errors.New("room: this store keeps no rooms")
	}
	switch sub {
	case "create":
		o, err := jid.Parse(*owner)
		if err != nil || o.Local() == "" {
			return usageError{fmt.Errorf("room create: --owner must be a bare JID, got %q", *owner)}
		}
		c := muc.DefaultConfig()
		c.Name, c.Description = *name, *description
		c.MembersOnly, c.Public = *membersOnly, !*hidden
		if err := muc.CreateRoom(ctx, rooms, room, o.Bare(), c); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("room %s exists already", room)
			}
			return err
		}
		fmt.Fprintf(stdout, "created %s\n", room)
	case "list":
		list, err := muc.ListRooms(ctx, rooms)
		if err != nil {
			return err
		}
		for _, r := range list {
			fmt.Fprintf(stdout, "%s\t%s\towners=%s\n", r.JID, r.Config.Name, strings.Join(r.Owners, ","))
		}
	}
	return nil
}

// roomJID accepts name@service or a bare name on the configured service.
func roomJID(s, service string) (jid.JID, error) {
	if !strings.Contains(s, "@") {
		s += "@" + service
	}
	j, err := jid.Parse(s)
	if err != nil || j.Local() == "" || !j.IsBare() {
		return jid.JID{}, fmt.Errorf("%q is not a room address (name@%s)", s, service)
	}
	if j.Domain() != service {
		return jid.JID{}, fmt.Errorf("room %s is not on this server's service %s", j, service)
	}
	return j, nil
}
