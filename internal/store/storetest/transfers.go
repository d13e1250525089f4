package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"parley/internal/store"
)

// Transfers is the suite of the conformance cases of store.Transfers.
var Transfers = Suite{transferCases, nil}

func wantVersions(t *testing.T, ctx context.Context, s store.Store, want map[string]int64) {
	t.Helper()
	got, err := s.RosterVersions(ctx)
	must(t, "RosterVersions", err)
	if len(got) != len(want) {
		t.Fatalf("RosterVersions = %v, want %v", got, want)
	}
	for u, v := range want {
		if got[u] != v {
			t.Fatalf("RosterVersions = %v, want %v", got, want)
		}
	}
}

var transferCases = []scenario{
	{"private xml keys", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		keys, err := s.PrivateXMLKeys(ctx, "alice")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys before any", keys, nil)
		for _, k := range []string{"storage storage:bookmarks", "Zed z", "a b", "ålf x"} {
			must(t, "SetPrivateXML", s.SetPrivateXML(ctx, "alice", k, []byte("<x/>")))
		}
		must(t, "SetPrivateXML", s.SetPrivateXML(ctx, "alice", "a b", []byte("<y/>")))
		must(t, "SetPrivateXML", s.SetPrivateXML(ctx, "bob", "bob's k", []byte("<x/>")))
		keys, err = s.PrivateXMLKeys(ctx, "alice")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys", keys, []string{"Zed z", "a b", "storage storage:bookmarks", "ålf x"})
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		keys, err = s.PrivateXMLKeys(ctx, "alice")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys of a deleted account", keys, nil)
		keys, err = s.PrivateXMLKeys(ctx, "nobody")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys of an unknown user", keys, nil)
	}},
	{"roster versions outlive accounts", func(t *testing.T, ctx context.Context, s store.Store) {
		wantVersions(t, ctx, s, map[string]int64{})
		create(t, ctx, s, "alice", "bob", "carol")
		for range 3 {
			_, err := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
			must(t, "PutRosterItem", err)
		}
		_, err := s.PutRosterItem(ctx, "bob", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
		must(t, "PutRosterItem", err)
		must(t, "DeleteUser", s.DeleteUser(ctx, "bob"))
		wantVersions(t, ctx, s, map[string]int64{"alice": 3, "bob": 1})
	}},
	{"table rows count every table", func(t *testing.T, ctx context.Context, s store.Store) {
		rows, err := s.TableRows(ctx)
		must(t, "TableRows", err)
		for _, table := range []string{"users", "roster_items", "archive", "uploads", "audit_log"} {
			if n, ok := rows[table]; !ok || n != 0 {
				t.Fatalf("an empty store's %s: %d, %v", table, n, ok)
			}
		}
		create(t, ctx, s, "alice", "bob")
		rows, err = s.TableRows(ctx)
		must(t, "TableRows", err)
		if rows["users"] != 2 {
			t.Fatalf("users rows = %d, want 2", rows["users"])
		}
	}},
	{"uploads listed and imported in any state", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
		up := store.Upload{ID: "u2", Owner: "alice", Name: "a.png", Size: 7, ContentType: "image/png",
			Created: t0, Expires: t0.Add(time.Hour), State: store.UploadStored}
		must(t, "ImportUpload", s.ImportUpload(ctx, up))
		must(t, "ImportUpload", s.ImportUpload(ctx, store.Upload{ID: "u1", Owner: "bob", Name: "b", Size: 1,
			ContentType: "text/plain", Created: t0, Expires: time.Unix(0, 0).UTC(), State: store.UploadReserved}))
		if err := s.ImportUpload(ctx, up); !errors.Is(err, store.ErrExists) {
			t.Fatalf("ImportUpload of a taken id: %v", err)
		}
		list, err := s.ListUploads(ctx)
		must(t, "ListUploads", err)
		if len(list) != 2 || list[0].ID != "u1" || list[1] != up {
			t.Fatalf("ListUploads = %+v", list)
		}
	}},
	{"abuse reports imported with their ids", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
		r := store.AbuseReport{ID: 5, Time: t0, Reporter: "alice", Reported: "x@example.net", Reason: "urn:xmpp:reporting:spam",
			StanzaIDs: []store.StanzaRef{{By: "alice@example.com", ID: "s1"}}}
		must(t, "ImportAbuseReport", s.ImportAbuseReport(ctx, r))
		if err := s.ImportAbuseReport(ctx, r); !errors.Is(err, store.ErrExists) {
			t.Fatalf("ImportAbuseReport of a taken id: %v", err)
		}
		id, err := s.AddAbuseReport(ctx, store.AbuseReport{Time: t0, Reporter: "bob", Reported: "x@example.net", Reason: "r"})
		must(t, "AddAbuseReport", err)
		if id != 6 {
			t.Fatalf("a report added after importing id 5 got id %d, want 6", id)
		}
		got, err := s.AbuseReports(ctx, 0, 0)
		must(t, "AbuseReports", err)
		if len(got) != 2 || got[0].ID != 5 || got[0].Reporter != "alice" || len(got[0].StanzaIDs) != 1 {
			t.Fatalf("AbuseReports = %+v", got)
		}
	}},
	{"audit cursors, pubsub services and stranger filters listed", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		must(t, "SetAuditCursor", s.SetAuditCursor(ctx, "siem", 7))
		must(t, "SetAuditCursor", s.SetAuditCursor(ctx, "file", 2))
		cursors, err := s.AuditCursors(ctx)
		must(t, "AuditCursors", err)
		if len(cursors) != 2 || cursors["siem"] != 7 || cursors["file"] != 2 {
			t.Fatalf("AuditCursors = %v", cursors)
		}
		for _, svc := range []string{"pubsub.example.com", "alice@example.com"} {
			must(t, "PutPubSubNode", s.PutPubSubNode(ctx, svc, store.PubSubNode{Node: "n", MaxItems: 1, Config: []byte("{}")}))
		}
		services, err := s.PubSubServices(ctx)
		must(t, "PubSubServices", err)
		wantStrings(t, "services", services, []string{"alice@example.com", "pubsub.example.com"})
		must(t, "SetStrangerFilter", s.SetStrangerFilter(ctx, "alice", true))
		must(t, "SetStrangerFilter", s.SetStrangerFilter(ctx, "bob", false))
		filters, err := s.StrangerFilters(ctx)
		must(t, "StrangerFilters", err)
		if len(filters) != 2 || !filters["alice"] || filters["bob"] {
			t.Fatalf("StrangerFilters = %v (a recorded off is listed too)", filters)
		}
	}},
	{"raise roster version", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		must(t, "RaiseRosterVersion", s.RaiseRosterVersion(ctx, "alice", 40))
		must(t, "RaiseRosterVersion lower", s.RaiseRosterVersion(ctx, "alice", 7))
		_, v, err := s.Roster(ctx, "alice")
		must(t, "Roster", err)
		if v != 40 {
			t.Fatalf("version after raising to 40 then 7 = %d", v)
		}
		v, err = s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
		must(t, "PutRosterItem", err)
		if v != 41 {
			t.Fatalf("PutRosterItem after raising to 40 = %d", v)
		}
		// A deleted account's version can be carried over before the
		// account exists again.
		must(t, "RaiseRosterVersion of no account", s.RaiseRosterVersion(ctx, "gone", 9))
		wantVersions(t, ctx, s, map[string]int64{"alice": 41, "gone": 9})
		create(t, ctx, s, "gone")
		v, err = s.PutRosterItem(ctx, "gone", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
		must(t, "PutRosterItem", err)
		if v != 10 {
			t.Fatalf("first change of a re-created account = version %d, want 10", v)
		}
	}},
}
