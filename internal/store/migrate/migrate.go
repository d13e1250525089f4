// Package migrate copies a whole parley site from one store backend to
// another (parley migrate --from sqlite:DIR --to postgres://...) and
// verifies the copy: every table's rows counted on both sides and, per
// user, per room, per pubsub service and for the site's tokens, uploads,
// abuse reports and audit log, a SHA-256 over a canonical serialisation
// of everything read back from each side. Every table of the schema is
// either copied (Tables) or rebuilt by the destination (Derived); a
// source with rows in any other table is refused before anything is
// written. Uploaded files stay where they are (the data directory's
// uploads folder): only their records move.
//
// It works only through the store interfaces, so it copies between any
// two backends. The source should not change meanwhile (stop the server).
package migrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"parley/internal/store"
)

// Errors with stable identities.
var (
	// ErrNotEmpty: the destination already holds accounts, rooms or roster
	// versions; a copy into it could not be verified (nor be what the
	// operator meant).
	ErrNotEmpty = errors.New("migrate: destination is not empty")
	// ErrMismatch: what was read back from the destination differs from
	// the source; the Report says where.
	ErrMismatch = errors.New("migrate: destination differs from source")
	// ErrNotMigrated: the source holds rows in a table this build does
	// not know how to copy (see Tables); nothing was copied.
	ErrNotMigrated = errors.New("migrate: table not migrated")
)

// Report is the outcome of Copy or Verify.
type Report struct {
	Tables []Table // the rows of each table of Tables, in its order
	// Users and Rooms are how many owners were checksummed on each side.
	Users, Rooms int
	// Checksum is a SHA-256 over every owner's checksum, in owner order,
	// of the source; equal to the destination's when Mismatches is empty.
	Checksum string
	// Mismatches names the owners whose checksums differ or that exist on
	// one side only ("user alice", "room r@conference.example").
	Mismatches []string
}

// Table counts one table's rows on both sides.
type Table struct {
	Name     string
	From, To int
}

// Equal reports whether every count and checksum matched.
func (r Report) Equal() bool {
	for _, t := range r.Tables {
		if t.From != t.To {
			return false
		}
	}
	return len(r.Mismatches) == 0
}

// workers copy or checksum this many owners at once: enough to fill a
// PostgreSQL destination's group commit, few enough not to crowd the
// source's readers.
const workers = 4

// pageSize is how many archived messages move per query and append (the
// SQLite store's limit on one append).
const pageSize = 1000

// Copy copies everything from one store into an empty other one (else
// ErrNotEmpty), then verifies it as Verify does; ErrMismatch, with the
// report, if the copy differs.
func Copy(ctx context.Context, from, to store.Store) (Report, error) {
	if err := requireEmpty(ctx, to); err != nil {
		return Report{}, err
	}
	if err := checkTables(ctx, from); err != nil {
		return Report{}, err
	}
	users, err := from.ListUsers(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("migrate: %w", err)
	}
	rooms, err := from.ListRooms(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("migrate: %w", err)
	}
	// Rooms first: the records, then (with the users) their archives.
	for _, r := range rooms {
		if err := copyRoom(ctx, from, to, r); err != nil {
			return Report{}, err
		}
	}
	jobs := make([]func() error, 0, len(users)+len(rooms))
	for _, u := range users {
		jobs = append(jobs, func() error { return copyUser(ctx, from, to, u) })
	}
	for _, r := range rooms {
		jobs = append(jobs, func() error { return copyArchive(ctx, from, to, r.JID) })
	}
	if err := parallel(ctx, jobs); err != nil {
		return Report{}, err
	}
	if err := copySite(ctx, from, to); err != nil {
		return Report{}, err
	}
	// Last, so that the raise is above every change the copy made; this
	// also carries the versions of deleted accounts.
	versions, err := from.RosterVersions(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("migrate: %w", err)
	}
	for _, u := range slices.Sorted(maps.Keys(versions)) {
		if err := to.RaiseRosterVersion(ctx, u, versions[u]); err != nil {
			return Report{}, fmt.Errorf("migrate: %w", err)
		}
	}
	return Verify(ctx, from, to)
}

func requireEmpty(ctx context.Context, to store.Store) error {
	users, err := to.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("migrate: destination: %w", err)
	}
	rooms, err := to.ListRooms(ctx)
	if err != nil {
		return fmt.Errorf("migrate: destination: %w", err)
	}
	versions, err := to.RosterVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrate: destination: %w", err)
	}
	if len(users)+len(rooms)+len(versions) > 0 {
		return fmt.Errorf("%w: %d accounts, %d rooms, %d roster versions", ErrNotEmpty, len(users), len(rooms), len(versions))
	}
	return nil
}

// copyUser copies an account and everything it owns.
func copyUser(ctx context.Context, from, to store.Store, username string) error {
	wrap := func(what string, err error) error {
		return fmt.Errorf("migrate: user %q: %s: %w", username, what, err)
	}
	u, err := from.GetUser(ctx, username)
	if err != nil {
		return wrap("read", err)
	}
	if err := to.CreateUser(ctx, u); err != nil {
		return wrap("create", err)
	}
	items, _, err := from.Roster(ctx, username)
	if err != nil {
		return wrap("roster", err)
	}
	for _, it := range items {
		if _, err := to.PutRosterItem(ctx, username, it); err != nil {
			return wrap("roster", err)
		}
	}
	msgs, err := from.OfflineMessages(ctx, username)
	if err != nil {
		return wrap("offline", err)
	}
	for _, m := range msgs {
		if err := to.StoreOffline(ctx, username, m); err != nil {
			return wrap("offline", err)
		}
	}
	switch v, err := from.VCard(ctx, username); {
	case err == nil:
		if err := to.SetVCard(ctx, username, v); err != nil {
			return wrap("vcard", err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return wrap("vcard", err)
	}
	keys, err := from.PrivateXMLKeys(ctx, username)
	if err != nil {
		return wrap("private xml", err)
	}
	for _, k := range keys {
		data, err := from.PrivateXML(ctx, username, k)
		if err == nil {
			err = to.SetPrivateXML(ctx, username, k, data)
		}
		if err != nil {
			return wrap("private xml", err)
		}
	}
	blocked, err := from.Blocklist(ctx, username)
	if err == nil && len(blocked) > 0 {
		err = to.Block(ctx, username, blocked)
	}
	if err != nil {
		return wrap("block list", err)
	}
	switch p, err := from.ArchivePrefs(ctx, username); {
	case err == nil:
		if err := to.SetArchivePrefs(ctx, username, p); err != nil {
			return wrap("archive preferences", err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return wrap("archive preferences", err)
	}
	regs, err := from.PushRegistrations(ctx, username)
	if err != nil {
		return wrap("push", err)
	}
	for _, r := range regs {
		if err := to.EnablePush(ctx, username, r); err != nil {
			return wrap("push", err)
		}
	}
	devices, err := from.FastDevices(ctx, username)
	if err != nil {
		return wrap("FAST devices", err)
	}
	for _, d := range devices {
		if err := to.SaveFastDevice(ctx, username, d); err != nil {
			return wrap("FAST devices", err)
		}
	}
	if addr, err := from.DigestAddress(ctx, username); err != nil {
		return wrap("digest address", err)
	} else if addr != "" {
		if err := to.SetDigestAddress(ctx, username, addr); err != nil {
			return wrap("digest address", err)
		}
	}
	if err := copyPEP(ctx, from, to, username); err != nil {
		return wrap("pep", err)
	}
	return copyArchive(ctx, from, to, username)
}

// copyPEP copies a user's personal eventing nodes (XEP-0163) with their
// items. Items are published oldest first with their own Updated, so the
// copy keeps their order (which one is the newest, what max_items drops
// next) and their stamps.
func copyPEP(ctx context.Context, from, to store.Store, username string) error {
	nodes, err := from.PEPNodes(ctx, username)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := to.PutPEPNode(ctx, username, n); err != nil {
			return fmt.Errorf("node %q: %w", n.Node, err)
		}
		items, err := from.PEPItems(ctx, username, n.Node, nil, 0)
		if err != nil {
			return fmt.Errorf("node %q: %w", n.Node, err)
		}
		for _, it := range items {
			if err := to.PublishPEPItem(ctx, username, n.Node, it); err != nil {
				return fmt.Errorf("node %q: item %q: %w", n.Node, it.ID, err)
			}
		}
	}
	return nil
}

// copyRoom copies a room's record, affiliations and vCard (its archive is copied
// with the users').
func copyRoom(ctx context.Context, from, to store.Store, r store.Room) error {
	if err := to.PutRoom(ctx, r); err != nil {
		return fmt.Errorf("migrate: room %q: %w", r.JID, err)
	}
	affs, err := from.RoomAffiliations(ctx, r.JID)
	if err != nil {
		return fmt.Errorf("migrate: room %q: %w", r.JID, err)
	}
	for _, a := range affs {
		if err := to.SetRoomAffiliation(ctx, r.JID, a); err != nil {
			return fmt.Errorf("migrate: room %q: %w", r.JID, err)
		}
	}
	vcard, err := from.RoomVCard(ctx, r.JID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err == nil {
		err = to.SetRoomVCard(ctx, r.JID, vcard)
	}
	if err != nil {
		return fmt.Errorf("migrate: room %q: %w", r.JID, err)
	}
	return nil
}

// copyArchive copies an owner's archive page by page, in archive order,
// with ids, stamps and search text.
func copyArchive(ctx context.Context, from, to store.Store, owner string) error {
	return eachArchivePage(ctx, from, owner, func(msgs []store.ArchivedMessage) error {
		if err := to.AppendArchive(ctx, msgs); err != nil {
			return fmt.Errorf("migrate: archive of %q: %w", owner, err)
		}
		return nil
	})
}

// eachArchivePage calls fn with every page of owner's archive in order.
func eachArchivePage(ctx context.Context, s store.Store, owner string, fn func([]store.ArchivedMessage) error) error {
	after := ""
	for {
		p, err := s.QueryArchive(ctx, owner, store.ArchiveQuery{After: after, Limit: pageSize})
		if err != nil {
			return fmt.Errorf("migrate: archive of %q: %w", owner, err)
		}
		if len(p.Messages) > 0 {
			if err := fn(p.Messages); err != nil {
				return err
			}
			after = p.Messages[len(p.Messages)-1].ID
		}
		if p.Complete {
			return nil
		}
	}
}

// parallel runs jobs on a few goroutines and returns the first error;
// after one, the jobs not started are skipped.
func parallel(ctx context.Context, jobs []func() error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan func() error)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for job := range next {
				if err := job(); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, job := range jobs {
		select {
		case next <- job:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
