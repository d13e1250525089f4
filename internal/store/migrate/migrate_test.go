package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/postgres"
	"parley/internal/store/sqlite"
	"parley/internal/xmpptest/testserver"
)

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fill stores a little of everything, with nanosecond stamps (which a
// PostgreSQL destination keeps to the microsecond).
func fill(t *testing.T, ctx context.Context, s store.Store) {
	t.Helper()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	keys := func(n string) store.ScramKeys {
		return store.ScramKeys{Salt: []byte("salt-" + n), Iterations: 4096, StoredKey: []byte("st-" + n), ServerKey: []byte("sv-" + n)}
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range []string{"alice", "bob", "gone", "ålf"} {
		check(s.CreateUser(ctx, store.User{Username: u, SHA1: keys(u + "1"), SHA256: keys(u + "256"), Created: t0.Add(time.Duration(i) * time.Hour)}))
	}
	for i := range 3 {
		_, err := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: fmt.Sprintf("c%d@example.net", i), Name: "C",
			Groups: []string{"Work", "Friends"}, Subscription: store.SubBoth, PendingIn: i == 1, PendingInStanza: []byte("<presence/>")})
		check(err)
	}
	_, err := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "c0@example.net", Subscription: store.SubTo}) // version 4
	check(err)
	_, err = s.PutRosterItem(ctx, "gone", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
	check(err)
	check(s.DeleteUser(ctx, "gone")) // leaves roster version 1 behind
	for i := range 3 {
		check(s.StoreOffline(ctx, "bob", store.OfflineMessage{Stamp: t0.Add(time.Duration(i) * time.Second), Stanza: fmt.Appendf(nil, "<message>%d</message>", i)}))
	}
	check(s.SetVCard(ctx, "alice", []byte("<vCard xmlns='vcard-temp'/>")))
	check(s.SetPrivateXML(ctx, "alice", "storage storage:bookmarks", []byte("<storage/>")))
	check(s.SetPrivateXML(ctx, "alice", "a b", []byte("<a/>")))
	check(s.Block(ctx, "bob", []string{"eve@example.net", "spam.example"}))
	check(s.SetArchivePrefs(ctx, "alice", store.ArchivePrefs{Default: store.ArchiveRoster, Always: []string{"c1@example.net"}}))
	// Two PEP nodes of alice, one trimmed to its newest items, whose
	// order (not their ids') must survive the copy.
	check(s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "urn:xmpp:bookmarks:1", AccessModel: store.AccessWhitelist, PersistItems: true, MaxItems: 3}))
	check(s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "urn:xmpp:avatar:metadata", AccessModel: store.AccessPresence, MaxItems: 1}))
	for i, id := range []string{"z", "b", "y", "a", "b"} {
		check(s.PublishPEPItem(ctx, "alice", "urn:xmpp:bookmarks:1", store.PEPItem{ID: id,
			Payload: []byte("<conference xmlns='urn:xmpp:bookmarks:1'/>"), Updated: t0.Add(time.Duration(i) * time.Minute)}))
	}
	check(s.PublishPEPItem(ctx, "alice", "urn:xmpp:avatar:metadata", store.PEPItem{ID: "sha1", Payload: []byte("<metadata/>"), Updated: t0}))
	check(s.PutPEPNode(ctx, "bob", store.PEPNode{Node: "empty", AccessModel: store.AccessOpen, MaxItems: 10}))
	const room = "lobby@conference.example.net"
	check(s.PutRoom(ctx, store.Room{JID: room, Config: []byte(`{"name":"Lobby"}`), Secret: []byte("s"), Subject: "hi", SubjectFrom: room + "/al", Created: t0}))
	check(s.SetRoomAffiliation(ctx, room, store.RoomAffiliation{JID: "alice@example.net", Affiliation: "owner"}))
	check(s.SetRoomAffiliation(ctx, room, store.RoomAffiliation{JID: "eve@example.net", Affiliation: "outcast", Reason: "spam"}))
	check(s.SetRoomVCard(ctx, room, []byte(`<vCard xmlns="vcard-temp"><FN>Lobby</FN></vCard>`)))
	// What belongs to no one user or room, and the accounts' settings
	// kept outside their own tables.
	check(s.EnablePush(ctx, "alice", store.PushRegistration{Service: "push.example.org", Node: "n1", Options: []byte("<x xmlns='jabber:x:data'/>"), Created: t0}))
	check(s.EnablePush(ctx, "alice", store.PushRegistration{Service: "push.example.org", Node: "n2", Created: t0}))
	check(s.SaveFastDevice(ctx, "alice", store.FastDevice{UserAgent: "d4565fa7-4d72-4749-b3d3-740edbf87770", Software: "AwesomeXMPP",
		Name: "Kiva's Phone", Mechanism: "HT-SHA-256-NONE", Created: t0, Used: t0,
		Current: store.FastToken{Verifier: []byte("v1"), Responder: []byte("r1"), Expires: t0.Add(time.Hour)},
		Next:    store.FastToken{Verifier: []byte("v2"), Responder: []byte("r2"), Expires: t0.Add(2 * time.Hour)}}))
	check(s.SetStrangerFilter(ctx, "alice", true))
	check(s.SetStrangerFilter(ctx, "bob", false)) // a recorded "off" is a row too
	check(s.SetDigestAddress(ctx, "alice", "alice@mail.example"))
	const svc = "pubsub.example.net"
	check(s.PutPubSubNode(ctx, svc, store.PubSubNode{Node: "news", MaxItems: 10, Config: []byte(`{"access_model":"open"}`)}))
	check(s.PutPubSubNode(ctx, svc, store.PubSubNode{Node: "alice's", Owner: "alice", MaxItems: 1, Config: []byte(`{}`)}))
	for i, id := range []string{"2", "1", "3"} {
		check(s.PublishPubSubItem(ctx, svc, "news", store.PubSubItem{ID: id, Publisher: "alice@example.net",
			Payload: []byte("<entry xmlns='http://www.w3.org/2005/Atom'/>"), Updated: t0.Add(time.Duration(i) * time.Second)}))
	}
	check(s.SetPubSubAffiliation(ctx, svc, "news", store.PubSubAffiliation{JID: "alice@example.net", Affiliation: store.AffiliationOwner}))
	check(s.SetPubSubAffiliation(ctx, svc, "news", store.PubSubAffiliation{JID: "eve@example.net", Affiliation: store.AffiliationOutcast}))
	check(s.PutPubSubSubscription(ctx, svc, "news", store.PubSubSubscription{JID: "bob@example.net/phone", SubID: "s1", State: store.SubscriptionSubscribed, Options: []byte(`{"deliver":true}`)}))
	check(s.PutPubSubSubscription(ctx, svc, "news", store.PubSubSubscription{JID: "carol@example.org", SubID: "s2", State: store.SubscriptionPending}))
	// A PEP node's row in the pubsub core, with a subscriber.
	check(s.PutPubSubNode(ctx, "alice@example.net", store.PubSubNode{Node: "urn:xmpp:bookmarks:1", Owner: "alice", MaxItems: 3, Config: []byte(`{}`)}))
	check(s.PutPubSubSubscription(ctx, "alice@example.net", "urn:xmpp:bookmarks:1", store.PubSubSubscription{JID: "alice@example.net/a", SubID: "x", State: store.SubscriptionSubscribed}))
	check(s.CreateToken(ctx, store.APIToken{ID: "t1", Name: "ops", Role: "admin", Hash: []byte("h1"), Created: t0}))
	check(s.CreateToken(ctx, store.APIToken{ID: "t2", Role: "helpdesk", Hash: []byte("h2"), Username: "bob", Created: t0, Expires: t0.Add(time.Hour)}))
	check(s.ReserveUpload(ctx, store.Upload{ID: "u1", Owner: "alice", Name: "a.png", Size: 10, ContentType: "image/png", Created: t0, Expires: t0.Add(time.Minute)}))
	check(s.ReserveUpload(ctx, store.Upload{ID: "u2", Owner: "bob", Name: "b.txt", Size: 3, ContentType: "text/plain", Created: t0, Expires: t0.Add(time.Minute)}))
	check(s.ClaimUpload(ctx, "u2", t0, t0.Add(time.Hour)))
	check(s.FinishUpload(ctx, "u2", t0, t0.Add(24*time.Hour)))
	// Report ids with a gap, which the copy keeps.
	check(s.ImportAbuseReport(ctx, store.AbuseReport{ID: 2, Time: t0, Reporter: "alice", Reported: "eve@example.net", Reason: "urn:xmpp:reporting:spam",
		StanzaIDs: []store.StanzaRef{{By: "alice@example.net", ID: "s-1"}}}))
	_, err = s.AddAbuseReport(ctx, store.AbuseReport{Time: t0, Reporter: "bob", Reported: "eve@example.net", Reason: "urn:xmpp:reporting:abuse", Text: "rude"})
	check(err)
	check(s.AddWebhookDeadLetter(ctx, []byte(`{"id":"1"}`), 10))
	check(s.AddWebhookDeadLetter(ctx, []byte(`{"id":"2"}`), 10))
	recs := []store.AuditRecord{
		{Seq: 1, Time: t0, Actor: "admin", Action: "user-create", Target: "alice", Outcome: "success", Prev: make([]byte, 32), Hash: []byte("hash-1")},
		{Seq: 2, Time: t0.Add(time.Nanosecond), Actor: "alice", Action: "login", Target: "alice", IP: "192.0.2.1", Outcome: "success",
			RequestID: "r", Details: map[string]string{"via": "tcp"}, Prev: []byte("hash-1"), Hash: []byte("hash-2")},
	}
	check(s.AppendAudit(ctx, recs, &store.AuditCheckpoint{Seq: 2, Hash: []byte("hash-2"), Time: t0, Signature: []byte("sig")}))
	check(s.SetAuditCursor(ctx, "siem", 1))
	// Incidents with a gap in their ids, notes, and an API policy.
	check(s.ImportIncident(ctx, store.Incident{ID: 3, Time: t0, Source: store.IncidentDLP, State: store.IncidentEscalated,
		Action: "block", Policies: []string{"cards"}, Detectors: []string{"card"}, Field: "body", Sender: "alice@example.net/a",
		Target: "bob@example.net", Summary: "card", Stanza: []byte("<message/>"), Updated: t0.Add(time.Minute),
		Notes: []store.IncidentNote{{Time: t0.Add(time.Minute), Reviewer: "admin-token:t1", State: store.IncidentEscalated, Text: "legal"}}}))
	_, err = s.AddIncident(ctx, store.Incident{Time: t0, Source: store.IncidentAbuseReport, Sender: "bob@example.net", ReportID: 2})
	check(err)
	check(s.PutDLPPolicy(ctx, store.DLPPolicy{Name: "keys", Spec: []byte(`{"name":"keys"}`), Updated: t0, UpdatedBy: "admin-token:t1"}))
	// A released hold, and an active one on bob that keeps the original of
	// his retracted message (appended below, retracted at the end).
	released, err := s.CreateHold(ctx, store.LegalHold{Name: "closed", Reason: "r", CreatedBy: "cli", Created: t0, Users: []string{"alice"}, To: t0})
	check(err)
	check(s.ReleaseHold(ctx, released, "admin-token:x", t0.Add(time.Hour)))
	_, err = s.CreateHold(ctx, store.LegalHold{Name: "open", CreatedBy: "cli", Created: t0, Users: []string{"bob"}, Rooms: []string{room}, From: t0})
	check(err)
	for _, owner := range []string{"alice", "bob", room} {
		n := 1100 // more than one page
		if owner != "alice" {
			n = 5
		}
		var msgs []store.ArchivedMessage
		for i := range n {
			id := fmt.Sprintf("%s-%c%d", owner, 'z'-rune(i%26), i) // ids that do not sort like the archive
			msgs = append(msgs, store.ArchivedMessage{Owner: owner, ID: id, With: "c1@example.net",
				Stamp: t0.Add(time.Duration(i) * time.Millisecond), Stanza: []byte("<message><body>café " + id + "</body></message>"), Text: "café " + id})
			if len(msgs) == 1000 || i == n-1 {
				check(s.AppendArchive(ctx, msgs))
				msgs = msgs[:0]
			}
		}
	}
	check(s.RetractArchived(ctx, "bob", "bob-z0", []byte("<message><retracted/></message>")))
}

// wantRows is what fill leaves in each table of migrate.Tables.
var wantRows = map[string]int{"users": 3, "roster_items": 3, "roster_versions": 2, "offline": 3, "vcards": 1,
	"private_xml": 2, "blocklist": 2, "archive": 1110, "archive_prefs": 1, "muc_rooms": 1, "muc_affiliations": 2,
	"pep_nodes": 3, "pep_items": 4, "pubsub_nodes": 3, "pubsub_items": 3, "pubsub_affiliations": 2,
	"pubsub_subscriptions": 3, "uploads": 2, "push_registrations": 2, "fast_tokens": 1, "stranger_filters": 2, "api_tokens": 2,
	"abuse_reports": 2, "audit_log": 2, "audit_checkpoints": 1, "audit_cursors": 1,
	"incidents": 2, "incident_notes": 1, "dlp_policies": 1,
	"digest_addresses": 1, "webhook_dead_letters": 2,
	"legal_holds": 2, "legal_hold_targets": 3, "archive_held": 1}

// checkFilled fails for any table of the schema that fill left empty or
// that migrate neither copies nor derives: a table added to the schema
// must be filled here and copied by migrate.
func checkFilled(t *testing.T, s store.Store) {
	t.Helper()
	rows, err := s.TableRows(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range rows {
		switch {
		case Derived(name):
		case !slices.Contains(Tables, name):
			t.Errorf("table %s is not copied by migrate (add it to Tables, copySite or copyUser, and the digests)", name)
		case n == 0:
			t.Errorf("table %s: fill leaves it empty, so the copy of it is not tested", name)
		}
	}
	for _, name := range Tables {
		if _, ok := rows[name]; !ok {
			t.Errorf("migrate.Tables names %s, which the schema does not have", name)
		}
	}
}

func TestCopy(t *testing.T) {
	ctx := t.Context()
	from, to := openSQLite(t), openSQLite(t)
	fill(t, ctx, from)
	checkFilled(t, from)
	r, err := Copy(ctx, from, to)
	if err != nil {
		t.Fatalf("Copy: %v (%+v)", err, r)
	}
	checkReport(t, r)
	// What the interfaces read is what was written, including the parts
	// the checksum covers only indirectly.
	_, v, err := to.Roster(ctx, "alice")
	if err != nil || v != 4 {
		t.Fatalf("alice's roster version %d, %v; want 4", v, err)
	}
	if err := to.CreateUser(ctx, store.User{Username: "gone"}); err != nil {
		t.Fatal(err)
	}
	if v, err := to.PutRosterItem(ctx, "gone", store.RosterItem{JID: "y@example.net", Subscription: store.SubNone}); err != nil || v != 2 {
		t.Fatalf("re-created account's first roster version %d, %v; want 2", v, err)
	}
	items, err := to.PEPItems(ctx, "alice", "urn:xmpp:bookmarks:1", nil, 0)
	if err != nil || len(items) != 3 || items[0].ID != "y" || items[2].ID != "b" ||
		items[2].Updated.UnixMicro() != time.Date(2025, 1, 2, 3, 8, 5, 123456000, time.UTC).UnixMicro() {
		t.Fatalf("bookmarks in the copy: %+v, %v", items, err)
	}
	if v, err := to.RoomVCard(ctx, "lobby@conference.example.net"); err != nil || string(v) != `<vCard xmlns="vcard-temp"><FN>Lobby</FN></vCard>` {
		t.Fatalf("room vCard in the copy: %q, %v", v, err)
	}
	p, err := to.QueryArchive(ctx, "alice", store.ArchiveQuery{Text: "CAFE", Limit: 1, Last: true, Count: true})
	if err != nil || p.Count != 1100 || p.Messages[0].ID != "alice-s1099" {
		t.Fatalf("search in the copy: %+v, %v", p, err)
	}
}

func checkReport(t *testing.T, r Report) {
	t.Helper()
	if len(r.Tables) != len(Tables) {
		t.Errorf("report has %d tables, want %d", len(r.Tables), len(Tables))
	}
	for _, tb := range r.Tables {
		if tb.From != wantRows[tb.Name] || tb.To != tb.From {
			t.Errorf("%s: from %d to %d, want %d", tb.Name, tb.From, tb.To, wantRows[tb.Name])
		}
	}
	if r.Users != 3 || r.Rooms != 1 || !r.Equal() || len(r.Checksum) != 64 {
		t.Fatalf("report %+v", r)
	}
}

// TestCopyBetweenBackends fills every table on SQLite, copies it to
// PostgreSQL and back to SQLite, and compares all three.
func TestCopyBetweenBackends(t *testing.T) {
	ctx := t.Context()
	from := openSQLite(t)
	fill(t, ctx, from)
	pg, err := postgres.Open(ctx, testserver.FreshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	checkFilled(t, from)
	r1, err := Copy(ctx, from, pg)
	if err != nil {
		t.Fatalf("SQLite to PostgreSQL: %v (%+v)", err, r1)
	}
	checkReport(t, r1)
	// PostgreSQL's schema has no table that migrate would leave behind.
	checkFilled(t, pg)
	back := openSQLite(t)
	r2, err := Copy(ctx, pg, back)
	if err != nil {
		t.Fatalf("PostgreSQL to SQLite: %v (%+v)", err, r2)
	}
	checkReport(t, r2)
	if r1.Checksum != r2.Checksum {
		t.Fatalf("site checksum %s after the round trip, was %s", r2.Checksum, r1.Checksum)
	}
	// The copied reports keep their ids, and a new one is numbered after them.
	id, err := pg.AddAbuseReport(ctx, store.AbuseReport{Reporter: "alice", Reported: "x@example.net", Reason: "urn:xmpp:reporting:spam"})
	if err != nil || id != 4 {
		t.Fatalf("report added after the copy: id %d, %v; want 4", id, err)
	}
	if u, err := pg.Upload(ctx, "u2"); err != nil || u.State != store.UploadStored || u.Size != 3 {
		t.Fatalf("upload u2 in the copy: %+v, %v", u, err)
	}
}

// TestCopyRefusesUnknownTable: rows in a table migrate does not know
// stop the copy before anything is written.
func TestCopyRefusesUnknownTable(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	from, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { from.Close() })
	if err := from.CreateUser(ctx, store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE future_things (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	to := openSQLite(t)
	if _, err := Copy(ctx, from, to); err != nil {
		t.Fatalf("an empty unknown table: %v", err)
	}
	if _, err := db.Exec(`INSERT INTO future_things VALUES ('h1')`); err != nil {
		t.Fatal(err)
	}
	to = openSQLite(t)
	if _, err := Copy(ctx, from, to); !errors.Is(err, ErrNotMigrated) || !strings.Contains(err.Error(), "future_things (1 rows)") {
		t.Fatalf("a table with a row: %v", err)
	}
	if users, _ := to.ListUsers(ctx); len(users) != 0 {
		t.Fatalf("refused copy wrote %v", users)
	}
}

func TestCopyRefusesNonEmptyDestination(t *testing.T) {
	ctx := t.Context()
	from, to := openSQLite(t), openSQLite(t)
	fill(t, ctx, from)
	if err := to.RaiseRosterVersion(ctx, "someone", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, from, to); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Copy into a store with a roster version: %v", err)
	}
	if users, _ := to.ListUsers(ctx); len(users) != 0 {
		t.Fatalf("refused copy wrote %v", users)
	}
}

// TestVerifyFindsDifferences changes one thing at a time in a copy and
// checks that Verify names the owner (or the count) that differs.
func TestVerifyFindsDifferences(t *testing.T) {
	ctx := t.Context()
	from := openSQLite(t)
	fill(t, ctx, from)
	for i, tc := range []struct {
		change func(s store.Store) error
		want   string // a mismatching owner
	}{
		{func(s store.Store) error { return s.SetPrivateXML(ctx, "alice", "a b", []byte("<b/>")) }, "user alice"},
		{func(s store.Store) error { return s.Unblock(ctx, "bob", []string{"eve@example.net"}) }, "user bob"},
		{func(s store.Store) error { return s.RaiseRosterVersion(ctx, "alice", 5) }, "user alice"},
		{func(s store.Store) error {
			return s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "bob", ID: "extra", Stanza: []byte("<message/>")}})
		}, "user bob"},
		{func(s store.Store) error {
			return s.SetRoomAffiliation(ctx, "lobby@conference.example.net", store.RoomAffiliation{JID: "eve@example.net"})
		}, "room lobby@conference.example.net"},
		{func(s store.Store) error { return s.RaiseRosterVersion(ctx, "gone", 2) }, "roster versions"},
		{func(s store.Store) error {
			return s.PublishPEPItem(ctx, "alice", "urn:xmpp:bookmarks:1", store.PEPItem{ID: "y", Payload: []byte("<conference xmlns='urn:xmpp:bookmarks:1'/>")})
		}, "user alice"}, // same items, "y" now the newest
		{func(s store.Store) error {
			return s.PutPEPNode(ctx, "bob", store.PEPNode{Node: "empty", AccessModel: store.AccessPresence, MaxItems: 10})
		}, "user bob"},
		{func(s store.Store) error { return s.CreateUser(ctx, store.User{Username: "new"}) }, "user new"},
		{func(s store.Store) error { return s.SetStrangerFilter(ctx, "alice", false) }, "user alice"},
		{func(s store.Store) error { return s.SetDigestAddress(ctx, "alice", "a@mail.example") }, "user alice"},
		{func(s store.Store) error { _, err := s.DisablePush(ctx, "alice", "push.example.org", "n2"); return err }, "user alice"},
		{func(s store.Store) error {
			return s.DeleteFastDevice(ctx, "alice", "d4565fa7-4d72-4749-b3d3-740edbf87770")
		}, "user alice"},
		{func(s store.Store) error { return s.RetractPubSubItem(ctx, "pubsub.example.net", "news", "1") }, "pubsub pubsub.example.net"},
		{func(s store.Store) error {
			return s.DeletePubSubSubscription(ctx, "alice@example.net", "urn:xmpp:bookmarks:1", "alice@example.net/a", "x")
		}, "pubsub alice@example.net"},
		{func(s store.Store) error { return s.RevokeToken(ctx, "t1") }, "tokens"},
		{func(s store.Store) error { return s.DeleteUploads(ctx, []string{"u1"}) }, "uploads"},
		{func(s store.Store) error {
			_, err := s.AddAbuseReport(ctx, store.AbuseReport{Reporter: "bob", Reported: "x@example.net", Reason: "r"})
			return err
		}, "abuse reports"},
		{func(s store.Store) error { return s.SetAuditCursor(ctx, "siem", 2) }, "audit"},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			to := openSQLite(t)
			if _, err := Copy(ctx, from, to); err != nil {
				t.Fatal(err)
			}
			if err := tc.change(to); err != nil {
				t.Fatal(err)
			}
			r, err := Verify(ctx, from, to)
			if !errors.Is(err, ErrMismatch) || r.Equal() {
				t.Fatalf("Verify after a change: %v, %+v", err, r)
			}
			found := false
			for _, m := range r.Mismatches {
				found = found || m == tc.want
			}
			if !found {
				t.Fatalf("mismatches %v, want %q among them", r.Mismatches, tc.want)
			}
		})
	}
}
