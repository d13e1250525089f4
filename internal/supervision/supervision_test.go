package supervision_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/audit/audittest"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/supervision"
	"parley/internal/xmpptest/testserver"
)

// reviewSteps lists the review steps audited so far.
func reviewSteps(r *audittest.Recorder) string {
	var out []string
	for _, rec := range r.Records() {
		out = append(out, rec.Details["step"]+"@"+rec.Target)
	}
	return strings.Join(out, " ")
}

// TestQueue: abuse reports join the queue once each; an opened DLP
// incident shows the sender's conversation around it; review steps move
// the state and are audited with the reads.
func TestQueue(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range []string{"alice", "bob"} {
		user, err := testserver.NewUser(u, "pw")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(ctx, user); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var msgs []store.ArchivedMessage
	for i := range 8 {
		msgs = append(msgs, store.ArchivedMessage{Owner: "alice", ID: fmt.Sprintf("m%d", i), With: "bob@example.com",
			Stamp: t0.Add(time.Duration(i-4) * time.Minute), Stanza: []byte(fmt.Sprintf("<message><body>%d</body></message>", i))})
	}
	msgs = append(msgs, store.ArchivedMessage{Owner: "alice", ID: "other", With: "carol@example.com", Stamp: t0, Stanza: []byte("<message/>")})
	if err := st.AppendArchive(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"spam@evil.example", "troll@evil.example"} {
		if _, err := st.AddAbuseReport(ctx, store.AbuseReport{Time: t0, Reporter: "bob", Reported: who, Reason: "urn:xmpp:reporting:spam"}); err != nil {
			t.Fatal(err)
		}
	}
	dlpID, err := st.AddIncident(ctx, store.Incident{Time: t0.Add(30 * time.Second), Source: store.IncidentDLP, Action: "block",
		Sender: "alice@example.com/phone", Target: "bob@example.com", Stanza: []byte("<message><body>secret</body></message>")})
	if err != nil {
		t.Fatal(err)
	}
	rec := &audittest.Recorder{}
	q := supervision.New(supervision.Options{Store: st, Audit: rec, Domain: jid.MustParse("example.com"), Context: 3})
	var last int64
	for range 2 { // the second listing imports nothing new
		list, err := q.List(ctx, store.IncidentQuery{Source: store.IncidentAbuseReport}, "admin-token:r")
		if err != nil || len(list) != 2 || list[0].Sender != "bob@example.com" || list[1].Target != "troll@evil.example" {
			t.Fatalf("List = %+v, %v", list, err)
		}
		last = list[1].ID
	}
	// An abuse report opens on the reporter's conversation with the
	// reported JID.
	if _, err := st.AddAbuseReport(ctx, store.AbuseReport{Time: t0, Reporter: "alice", Reported: "carol@example.com", Reason: "urn:xmpp:reporting:abuse"}); err != nil {
		t.Fatal(err)
	}
	list, err := q.List(ctx, store.IncidentQuery{After: last}, "admin-token:r")
	if err != nil || len(list) != 1 {
		t.Fatalf("List after a new report = %+v, %v", list, err)
	}
	rc, err := q.Open(ctx, list[0].ID, "admin-token:r")
	if err != nil || rc.Archive != "alice" || len(rc.Context) != 1 || rc.Context[0].ID != "other" {
		t.Errorf("the report's context: %q %+v, %v", rc.Archive, rc.Context, err)
	}
	rec.Take() // only the steps below count
	c, err := q.Open(ctx, dlpID, "admin-token:r")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range c.Context {
		ids = append(ids, m.ID)
	}
	// Three before 12:00:30 (m2 at 11:58, m3, m4 at 12:00) and three after.
	if c.Archive != "alice" || strings.Join(ids, ",") != "m2,m3,m4,m5,m6,m7" || string(c.Stanza) != "<message><body>secret</body></message>" {
		t.Errorf("Open = archive %q, context %v, stanza %q", c.Archive, ids, c.Stanza)
	}
	steps := []struct {
		state, note string
		err         error
	}{
		{store.IncidentEscalated, "legal", nil},
		{store.IncidentEscalated, "", supervision.ErrBadState},
		{"", "called alice", nil},
		{store.IncidentResolved, strings.Repeat("x", supervision.MaxNote+1), supervision.ErrNoteSize},
		{store.IncidentResolved, "", nil},
	}
	for i, s := range steps {
		in, err := q.Review(ctx, dlpID, s.state, s.note, "admin-token:r")
		if !errors.Is(err, s.err) {
			t.Fatalf("step %d: %v, want %v", i, err, s.err)
		}
		if err == nil && s.state != "" && in.State != s.state {
			t.Errorf("step %d: state %s", i, in.State)
		}
	}
	got, _ := st.Incident(ctx, dlpID)
	if got.State != store.IncidentResolved || len(got.Notes) != 3 || got.Notes[1].Text != "called alice" || got.Notes[0].Reviewer != "admin-token:r" {
		t.Errorf("after review: %+v", got)
	}
	if _, err := q.Open(ctx, 1<<40, "admin-token:r"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Open of nothing: %v", err)
	}
	want := fmt.Sprintf("open@incident:%[1]d escalate@incident:%[1]d note@incident:%[1]d resolve@incident:%[1]d", dlpID)
	if got := reviewSteps(rec); got != want {
		t.Errorf("audited %q, want %q", got, want)
	}
}
