package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/store"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestAuditOverTCP: a failed and a successful login, a password change
// and an account removal over real streams become audit records, forwarded
// to a JSON Lines sink, and the chain verifies.
func TestAuditOverTCP(t *testing.T) {
	sinkPath := filepath.Join(t.TempDir(), "audit.jsonl")
	srv := testserver.Start(t, func(c *config.Config) {
		c.Audit.Sinks = []config.AuditSink{{Name: "file", Type: "file", Path: sinkPath}}
	})
	srv.AddUser(t, "alice", "pw-alice")
	ctx := context.Background()
	if _, err := xmpptest.Dial(ctx, srv.C2S(), xmpptest.Options{User: "alice", Password: "wrong"}); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	c := srv.Online(t, "alice", "pw-alice", "desk")
	if r, err := c.IQ(10*time.Second, "set", "", `<query xmlns='jabber:iq:register'><username>alice</username><password>new</password></query>`); err != nil || r.Get("type") != "result" {
		t.Fatalf("password change: %v %v", r, err)
	}
	if _, err := c.IQ(10*time.Second, "set", "", `<query xmlns='jabber:iq:register'><remove/></query>`); err != nil {
		t.Logf("remove: %v (the stream ends)", err)
	}

	want := []struct{ action, outcome, actor string }{
		{audit.ActionLoginFailed, audit.OutcomeFailure, "alice@localhost"},
		{audit.ActionLogin, audit.OutcomeSuccess, "alice@localhost"},
		{audit.ActionPasswordChanged, audit.OutcomeSuccess, "alice@localhost"},
		{audit.ActionAccountDeleted, audit.OutcomeSuccess, "alice@localhost"},
	}
	a := srv.Store().(store.Audit)
	xmpptest.Eventually(t, 10*time.Second, func() error {
		recs, err := audit.Query(ctx, a, store.AuditQuery{})
		if err != nil {
			return err
		}
		if len(recs) != len(want) {
			return fmt.Errorf("%d records", len(recs))
		}
		for i, w := range want {
			r := recs[i]
			if r.Action != w.action || r.Outcome != w.outcome || r.Actor != w.actor || r.Target != "alice@localhost" {
				t.Fatalf("record %d = %+v, want %+v", i+1, r, w)
			}
		}
		if recs[0].IP != "127.0.0.1" || recs[0].Details["mechanism"] == "" || recs[0].Details["condition"] != "not-authorized" {
			t.Fatalf("login-failed record %+v lacks IP, mechanism or condition", recs[0])
		}
		return nil
	})
	xmpptest.Eventually(t, 10*time.Second, func() error {
		n, err := countLines(sinkPath)
		if err == nil && n != len(want) {
			err = fmt.Errorf("%d lines in the sink", n)
		}
		return err
	})
	pub, err := audit.LoadPublicKey(srv.Config.Data)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := audit.Verify(ctx, a, pub); err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %v", rep, err)
	}
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return 0, errors.New("not JSON: " + sc.Text())
		}
		n++
	}
	return n, sc.Err()
}

// TestAuditReload: a configuration reload (SIGHUP) is recorded with the
// keys that wait for a restart.
func TestAuditReload(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	cfg := srv.Config
	cfg.Limits.OfflineMax = 7
	if _, err := srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	a := srv.Store().(store.Audit)
	xmpptest.Eventually(t, 10*time.Second, func() error {
		recs, err := audit.Query(context.Background(), a, store.AuditQuery{Action: audit.ActionConfigReloaded})
		if err != nil || len(recs) != 1 {
			return fmt.Errorf("%v %v", recs, err)
		}
		if recs[0].Details["restart_needed"] != "limits.offline_max" || recs[0].Outcome != audit.OutcomeSuccess {
			t.Fatalf("record %+v", recs[0])
		}
		return nil
	})
}
