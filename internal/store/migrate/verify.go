package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/internal/store"
)

// census is what was read from one side: rows by table and a checksum
// by owner ("user NAME", "room JID", "pubsub SERVICE", "audit", ...).
type census struct {
	mu    sync.Mutex // guards sums while owners are read in parallel
	rows  map[string]int64
	sums  map[string][]byte
	users int
	rooms int
}

func (c *census) add(owner string, sum []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sums[owner] = sum
}

// Verify reads both stores whole and compares them: the rows of every
// table of Tables and, per user, per room, per pubsub service and for
// the site's tokens, uploads, abuse reports and audit log, a SHA-256 over
// a canonical serialisation of all it holds (see digestUser).
// ErrMismatch, with the report, if they differ.
func Verify(ctx context.Context, from, to store.Store) (Report, error) {
	var src, dst *census
	var errSrc, errDst error
	var wg sync.WaitGroup
	wg.Go(func() { src, errSrc = take(ctx, from) })
	wg.Go(func() { dst, errDst = take(ctx, to) })
	wg.Wait()
	if errSrc != nil {
		return Report{}, fmt.Errorf("migrate: verify source: %w", errSrc)
	}
	if errDst != nil {
		return Report{}, fmt.Errorf("migrate: verify destination: %w", errDst)
	}
	r := Report{Users: src.users, Rooms: src.rooms}
	for _, name := range Tables {
		r.Tables = append(r.Tables, Table{Name: name, From: int(src.rows[name]), To: int(dst.rows[name])})
	}
	site := sha256.New()
	owners := slices.Sorted(maps.Keys(src.sums))
	for _, o := range owners {
		site.Write([]byte(o))
		site.Write(src.sums[o])
		if d, ok := dst.sums[o]; !ok || string(d) != string(src.sums[o]) {
			r.Mismatches = append(r.Mismatches, o)
		}
	}
	for _, o := range slices.Sorted(maps.Keys(dst.sums)) {
		if _, ok := src.sums[o]; !ok {
			r.Mismatches = append(r.Mismatches, o)
		}
	}
	r.Checksum = hex.EncodeToString(site.Sum(nil))
	if !r.Equal() {
		return r, ErrMismatch
	}
	return r, nil
}

// take reads one store whole.
func take(ctx context.Context, s store.Store) (*census, error) {
	c := &census{sums: map[string][]byte{}}
	rows, err := s.TableRows(ctx)
	if err != nil {
		return nil, err
	}
	c.rows = rows
	users, err := s.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	rooms, err := s.ListRooms(ctx)
	if err != nil {
		return nil, err
	}
	versions, err := s.RosterVersions(ctx)
	if err != nil {
		return nil, err
	}
	c.users, c.rooms = len(users), len(rooms)
	// Versions of deleted accounts belong to no user's checksum; one
	// pseudo-owner holds them all.
	h := newDigest()
	for _, u := range slices.Sorted(maps.Keys(versions)) {
		h.str(u)
		h.int(versions[u])
	}
	c.sums["roster versions"] = h.Sum(nil)

	var jobs []func() error
	for _, u := range users {
		jobs = append(jobs, func() error {
			sum, err := digestUser(ctx, s, u)
			if err != nil {
				return fmt.Errorf("user %q: %w", u, err)
			}
			c.add("user "+u, sum)
			return nil
		})
	}
	for _, r := range rooms {
		jobs = append(jobs, func() error {
			sum, err := digestRoom(ctx, s, r)
			if err != nil {
				return fmt.Errorf("room %q: %w", r.JID, err)
			}
			c.add("room "+r.JID, sum)
			return nil
		})
	}
	jobs = append(jobs, func() error { return digestSite(ctx, s, c) })
	if err := parallel(ctx, jobs); err != nil {
		return nil, err
	}
	return c, nil
}

// digest is a SHA-256 fed with length-prefixed fields, so that no two
// different sequences of fields serialise alike.
type digest struct{ hash.Hash }

func newDigest() digest { return digest{sha256.New()} }

func (d digest) bytes(b []byte) {
	d.Write(binary.AppendUvarint(nil, uint64(len(b))))
	d.Write(b)
}
func (d digest) str(s string) { d.bytes([]byte(s)) }
func (d digest) int(n int64)  { d.Write(binary.AppendVarint(nil, n)) }
func (d digest) bool(b bool) {
	if b {
		d.int(1)
	} else {
		d.int(0)
	}
}
func (d digest) strs(l []string) {
	d.int(int64(len(l)))
	for _, s := range l {
		d.str(s)
	}
}

// time writes t in microseconds since the epoch: the precision every
// backend keeps (PostgreSQL has no nanoseconds), so a copy from SQLite
// drops the sub-microsecond digits of a stamp and compares equal.
func (d digest) time(t time.Time) { d.int(t.UnixMicro()) }

// digestList writes a section of the items a read returned (unless it
// failed with err): its name, their count, then each item with put.
func digestList[T any](d digest, name string, items []T, err error, put func(T)) error {
	if err != nil {
		return err
	}
	d.section(name)
	d.int(int64(len(items)))
	for _, it := range items {
		put(it)
	}
	return nil
}

// section starts a part of the serialisation, so that empty parts still
// count and parts cannot shift into each other.
func (d digest) section(name string) { d.str("§" + name) }

// digestUser serialises everything a user owns, in a canonical order: the
// account (keys, creation), roster items by JID and the roster version,
// offline messages in arrival order (without their ids, which each store
// assigns), vCard, private XML by key, block list, archive preferences,
// PEP nodes by name with their items oldest first, and the archive in
// archive order.
func digestUser(ctx context.Context, s store.Store, username string) ([]byte, error) {
	d := newDigest()
	u, err := s.GetUser(ctx, username)
	if err != nil {
		return nil, err
	}
	d.section("user")
	d.str(u.Username)
	for _, k := range []store.ScramKeys{u.SHA1, u.SHA256} {
		d.bytes(k.Salt)
		d.int(int64(k.Iterations))
		d.bytes(k.StoredKey)
		d.bytes(k.ServerKey)
	}
	d.time(u.Created)

	items, version, err := s.Roster(ctx, username)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(items, func(a, b store.RosterItem) int { return strings.Compare(a.JID, b.JID) })
	d.section("roster")
	d.int(version)
	d.int(int64(len(items)))
	for _, it := range items {
		d.str(it.JID)
		d.str(it.Name)
		d.strs(it.Groups)
		d.str(it.Subscription)
		d.bool(it.AskOut)
		d.bool(it.PendingIn)
		d.bool(it.PreApproved)
		d.bytes(it.PendingInStanza)
		d.bool(it.Hidden)
	}

	msgs, err := s.OfflineMessages(ctx, username)
	if err := digestList(d, "offline", msgs, err, func(m store.OfflineMessage) {
		d.time(m.Stamp)
		d.bytes(m.Stanza)
	}); err != nil {
		return nil, err
	}

	d.section("vcard")
	switch v, err := s.VCard(ctx, username); {
	case err == nil:
		d.bool(true)
		d.bytes(v)
	case errors.Is(err, store.ErrNotFound):
		d.bool(false)
	default:
		return nil, err
	}

	keys, err := s.PrivateXMLKeys(ctx, username)
	if err != nil {
		return nil, err
	}
	d.section("private")
	d.int(int64(len(keys)))
	for _, k := range keys {
		data, err := s.PrivateXML(ctx, username, k)
		if err != nil {
			return nil, err
		}
		d.str(k)
		d.bytes(data)
	}

	blocked, err := s.Blocklist(ctx, username)
	if err != nil {
		return nil, err
	}
	d.section("blocklist")
	d.strs(blocked)

	d.section("archive prefs")
	switch p, err := s.ArchivePrefs(ctx, username); {
	case err == nil:
		d.bool(true)
		d.str(p.Default)
		d.strs(p.Always)
		d.strs(p.Never)
	case errors.Is(err, store.ErrNotFound):
		d.bool(false)
	default:
		return nil, err
	}

	regs, err := s.PushRegistrations(ctx, username)
	if err := digestList(d, "push", regs, err, func(r store.PushRegistration) {
		d.strs([]string{r.Service, r.Node})
		d.bytes(r.Options)
		d.time(r.Created)
	}); err != nil {
		return nil, err
	}
	devices, err := s.FastDevices(ctx, username)
	if err := digestList(d, "FAST devices", devices, err, func(f store.FastDevice) {
		d.strs([]string{f.UserAgent, f.Software, f.Name, f.Mechanism})
		for _, t := range []store.FastToken{f.Current, f.Next} {
			d.bytes(t.Verifier)
			d.bytes(t.Responder)
			d.time(t.Expires)
		}
		d.time(f.Created)
		d.time(f.Used)
	}); err != nil {
		return nil, err
	}
	d.section("stranger filter")
	on, err := s.StrangerFilter(ctx, username)
	if err != nil {
		return nil, err
	}
	d.bool(on)
	d.section("digest address")
	addr, err := s.DigestAddress(ctx, username)
	if err != nil {
		return nil, err
	}
	d.strs([]string{addr})

	if err := digestPEP(ctx, d, s, username); err != nil {
		return nil, err
	}
	if err := digestArchive(ctx, d, s, username); err != nil {
		return nil, err
	}
	return d.Sum(nil), nil
}

// digestPEP serialises a user's PEP nodes by name, each with its
// configuration and its items oldest first.
func digestPEP(ctx context.Context, d digest, s store.Store, username string) error {
	list, err := s.PEPNodes(ctx, username)
	if err != nil {
		return err
	}
	d.section("pep")
	d.int(int64(len(list)))
	for _, n := range list {
		d.str(n.Node)
		d.str(n.AccessModel)
		d.bool(n.PersistItems)
		d.int(int64(n.MaxItems))
		its, err := s.PEPItems(ctx, username, n.Node, nil, 0)
		if err != nil {
			return err
		}
		d.int(int64(len(its)))
		for _, it := range its {
			d.str(it.ID)
			d.bytes(it.Payload)
			d.time(it.Updated)
		}
	}
	return nil
}

// digestRoom serialises a room: its record, affiliations by JID, its
// vCard and its archive.
func digestRoom(ctx context.Context, s store.Store, r store.Room) ([]byte, error) {
	d := newDigest()
	d.section("room")
	d.str(r.JID)
	d.bytes(r.Config)
	d.bytes(r.Secret)
	d.str(r.Subject)
	d.str(r.SubjectFrom)
	d.time(r.Created)
	affs, err := s.RoomAffiliations(ctx, r.JID)
	if err := digestList(d, "affiliations", affs, err, func(a store.RoomAffiliation) {
		d.str(a.JID)
		d.str(a.Affiliation)
		d.str(a.Nick)
		d.str(a.Reason)
	}); err != nil {
		return nil, err
	}
	vcard, err := s.RoomVCard(ctx, r.JID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	d.section("vcard")
	d.bytes(vcard)
	if err := digestArchive(ctx, d, s, r.JID); err != nil {
		return nil, err
	}
	return d.Sum(nil), nil
}

// digestArchive serialises an owner's archive in archive order.
func digestArchive(ctx context.Context, d digest, s store.Store, owner string) error {
	d.section("archive")
	n := 0
	err := eachArchivePage(ctx, s, owner, func(msgs []store.ArchivedMessage) error {
		for _, m := range msgs {
			d.str(m.ID)
			d.str(m.With)
			d.time(m.Stamp)
			d.bytes(m.Stanza)
			d.str(m.Text)
		}
		n += len(msgs)
		return nil
	})
	d.int(int64(n))
	return err
}
