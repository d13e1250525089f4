package retention_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/retention"
	"parley/internal/store"
	"parley/internal/upload"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 10 * time.Second

// TestRetentionRunOnServer: on a running server with [retention] of 30
// days (a year for bob's policy), one run deletes the archived messages
// (accounts' and a room's), offline messages and uploaded files older
// than their owner's period, keeps the newer ones and everything a legal
// hold covers, removes the expired files from disk (the upload service's
// cleanup, woken by the job), counts the rows in /metrics and records the
// run in the audit log.
func TestRetentionRunOnServer(t *testing.T) {
	const room = "desk@conference.localhost"
	srv := testserver.Start(t, func(c *config.Config) {
		c.Listen.HTTPS = "127.0.0.1:0"
		c.Retention = config.Retention{
			Archive: config.Period{Days: 30, Set: true}, Offline: config.Period{Days: 30, Set: true},
			Uploads: config.Period{Days: 30, Set: true}, Batch: 2, Pause: config.Duration{Duration: time.Millisecond},
			Policies: []config.RetentionPolicy{{Name: "bob", Users: []string{"bob@localhost"}, Archive: config.Period{Days: 365, Set: true}}},
		}
	})
	ctx := context.Background()
	st := srv.Store()
	srv.AddUsers(t, "pw", "alice", "bob", "carol")
	if err := st.PutRoom(ctx, store.Room{JID: room, Config: []byte("{}"), Secret: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old, older, recent := now.Add(-100*24*time.Hour), now.Add(-400*24*time.Hour), now.Add(-24*time.Hour)
	var msgs []store.ArchivedMessage
	add := func(owner, id string, at time.Time) {
		msgs = append(msgs, store.ArchivedMessage{Owner: owner, ID: id, With: "x@example.net", Stamp: at,
			Stanza: []byte("<message xmlns='jabber:client'><body>" + id + "</body></message>"), Text: id})
	}
	for _, owner := range []string{"alice", "bob", "carol", room} {
		add(owner, owner+"-older", older)
		add(owner, owner+"-old", old)
		add(owner, owner+"-recent", recent)
	}
	if err := st.AppendArchive(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "carol"} {
		for _, at := range []time.Time{old, recent} {
			if err := st.StoreOffline(ctx, u, store.OfflineMessage{Stamp: at, Stanza: []byte("<message/>")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	files := map[string]string{}
	for _, f := range []struct {
		id, owner string
		at        time.Time
	}{{"alice-old-file", "alice", old}, {"alice-new-file", "alice", recent}, {"carol-old-file", "carol", old}} {
		files[f.id] = storeFile(t, srv, f.id, f.owner, f.at, now.Add(24*time.Hour))
	}
	// carol is under a hold: nothing of hers goes.
	if _, err := st.CreateHold(ctx, store.LegalHold{Name: "carol", Users: []string{"carol"}}); err != nil {
		t.Fatal(err)
	}

	rep, err := srv.Retention().Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// alice: older, old; bob (a year): older; the room: older, old.
	if rep[retention.KindArchive] != 5 || rep[retention.KindOffline] != 1 || rep[retention.KindUploads] != 1 {
		t.Errorf("report %v, want 5 archived, 1 offline, 1 upload", rep)
	}
	for owner, want := range map[string]string{"alice": "alice-recent", "bob": "bob-old bob-recent",
		"carol": "carol-older carol-old carol-recent", room: room + "-recent"} {
		p, err := st.QueryArchive(ctx, owner, store.ArchiveQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range p.Messages {
			ids = append(ids, m.ID)
		}
		if got := strings.Join(ids, " "); got != want {
			t.Errorf("%s keeps %q, want %q", owner, got, want)
		}
	}
	for u, want := range map[string]int{"alice": 1, "carol": 2} {
		if n, err := st.CountOffline(ctx, u); err != nil || n != want {
			t.Errorf("%s has %d offline messages (%v), want %d", u, n, err, want)
		}
	}
	xmpptest.Eventually(t, wait, func() error {
		if _, err := os.Stat(files["alice-old-file"]); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("alice's old file is still on disk (%v)", err)
		}
		if _, err := st.Upload(ctx, "alice-old-file"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("alice's old upload is still recorded (%v)", err)
		}
		return nil
	})
	for _, id := range []string{"alice-new-file", "carol-old-file"} {
		if _, err := os.Stat(files[id]); err != nil {
			t.Errorf("%s: %v, want it kept", id, err)
		}
	}

	// The audit log's writer records it after the run returns.
	xmpptest.Eventually(t, wait, func() error {
		recs, err := audit.Query(ctx, st, store.AuditQuery{Action: audit.ActionRetention})
		if err != nil || len(recs) != 1 || recs[0].Outcome != audit.OutcomeSuccess || recs[0].Details["archive"] != "5" ||
			recs[0].Details["uploads"] != "1" {
			return fmt.Errorf("audit %+v, %v; want one successful run", recs, err)
		}
		return nil
	})
	resp, err := http.Get("http://" + srv.Addr("metrics").String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{`parley_retention_removed_total{kind="archive"} 5`, `parley_retention_runs_total{outcome="success"} 1`} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// storeFile puts an uploaded file of owner created at, expiring at
// expires, in srv's store and upload directory as a finished PUT leaves
// it, and returns its path on disk.
func storeFile(t *testing.T, srv *testserver.Server, id, owner string, created, expires time.Time) string {
	t.Helper()
	ctx, st := context.Background(), srv.Store()
	if err := st.ReserveUpload(ctx, store.Upload{ID: id, Owner: owner, Name: "f.txt", Size: 2, ContentType: "text/plain",
		Created: created, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.ClaimUpload(ctx, id, time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := upload.Dir(filepath.Join(srv.Config.Data, "uploads")).Put(id, strings.NewReader("hi"), 2); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishUpload(ctx, id, created, expires); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(srv.Config.Data, "uploads", id[:2], id)
}

// TestHeldFilesOutliveAccount: a legal hold keeps its custodian's
// uploaded files past their [upload] expire and past the deletion of the
// account (XEP-0077 in-band removal over TCP), for e-discovery; an
// account no hold covers loses its files at its deletion; releasing the
// hold lets the upload service's cleanup remove them.
func TestHeldFilesOutliveAccount(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Listen.HTTPS = "127.0.0.1:0" })
	ctx, st := context.Background(), srv.Store()
	srv.AddUsers(t, "pw", "alice", "carol")
	now := time.Now()
	aliceFile := storeFile(t, srv, "alice-file", "alice", now.Add(-time.Hour), now.Add(24*time.Hour))
	carolFile := storeFile(t, srv, "carol-file", "carol", now.Add(-time.Hour), now.Add(-time.Minute)) // expired already
	hold, err := st.CreateHold(ctx, store.LegalHold{Name: "carol", Users: []string{"carol"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"carol", "alice"} { // alice last: her file's removal shows the cleanup ran after both
		c := srv.Online(t, u, "pw", "r")
		if res, err := c.IQ(wait, "set", "", `<query xmlns='jabber:iq:register'><remove/></query>`); err != nil || res.Get("type") != "result" {
			t.Fatalf("%s removes the account: %v %v", u, res, err)
		}
	}
	xmpptest.Eventually(t, wait, func() error {
		if _, err := os.Stat(aliceFile); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("alice's file is still on disk (%v)", err)
		}
		return nil
	})
	if _, err := os.Stat(carolFile); err != nil {
		t.Fatalf("carol's held file: %v, want it kept", err)
	}
	if u, err := st.Upload(ctx, "carol-file"); err != nil || u.State != store.UploadStored {
		t.Fatalf("carol's held upload = %+v, %v; want it recorded as stored", u, err)
	}

	// Released through the control socket, as `parley hold release` does.
	if _, err := control.Call(ctx, srv.Config.Data, control.Request{Op: "hold.release", ID: strconv.FormatInt(hold, 10)}); err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, wait, func() error {
		if _, err := os.Stat(carolFile); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("carol's file is still on disk after the release (%v)", err)
		}
		return nil
	})
}
