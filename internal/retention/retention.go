// Package retention enforces retention policies ([retention] in
// parley.toml, issue 14): a background job that deletes archived
// messages (user and room archives), offline messages and uploaded files
// once they are older than the period their owner's policy keeps them,
// in bounded batches (one store transaction each, a pause between
// them), never touching what an active legal hold covers (the store's
// Expire operations refuse those rows; store.LegalHolds). Each run is
// one audit record; progress is in metrics as it goes.
// docs/compliance-guide.md says what it promises and what it does not.
package retention

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"parley/internal/audit"
	"parley/internal/clock"
	"parley/internal/defaults"
	"parley/internal/store"
)

// Defaults of Options' zero values.
const (
	DefaultEvery = time.Hour
	DefaultBatch = 1000
	DefaultPause = 100 * time.Millisecond
)

// What a policy keeps; also the metric's and the audit record's labels.
const (
	KindArchive = "archive"
	KindOffline = "offline"
	KindUploads = "uploads"
)

// Kinds in the order a run enforces them.
var Kinds = []string{KindArchive, KindOffline, KindUploads}

// Policy is the retention of each kind: a site-wide period and periods
// for some owners (usernames, and room JIDs for the archive), already
// resolved (config.Retention's rule: the longest of an owner's policies
// wins). A period of 0 keeps forever.
type Policy struct {
	Site   map[string]time.Duration
	Owners map[string]map[string]time.Duration // kind → owner → period
}

// Store is what the job needs of the store.
type Store interface {
	store.Retention
}

// Auditor records each run (audit.Log).
type Auditor interface {
	Emit(r audit.Record)
}

// Metrics observe progress (metrics.Metrics).
type Metrics interface {
	// RetentionDeleted adds n rows of kind removed by one batch.
	RetentionDeleted(kind string, n int)
	// RetentionRun records a run that ended at `at`, failed or not.
	RetentionRun(ok bool, at time.Time)
}

// Uploads is the upload service, whose cleanup removes the files of
// uploads the job marked expired (upload.Module.Forget).
type Uploads interface {
	Forget(username string)
}

// Options configure the job.
type Options struct {
	Store  Store
	Policy Policy
	// Every is the time between runs (default 1h); the first run is one
	// Every after New. Batch bounds the rows one transaction removes
	// (default 1000); Pause is the wait between batches (default 100ms).
	Every time.Duration
	Batch int
	Pause time.Duration
	// Optional.
	Audit   Auditor
	Metrics Metrics
	Uploads Uploads
	Clock   clock.Clock
	Log     *slog.Logger // nil: slog.Default()
}

// Job runs the policy every Every until Close.
type Job struct {
	o       Options
	clock   clock.Clock
	ctx     context.Context // ends at Close
	stop    context.CancelFunc
	stopped sync.WaitGroup
	runMu   sync.Mutex // one run at a time (the loop's or Run's)
}

// New starts the job; nothing runs if no policy removes anything.
func New(o Options) *Job {
	defaults.Positive(&o.Every, DefaultEvery)
	defaults.Positive(&o.Batch, DefaultBatch)
	defaults.Positive(&o.Pause, DefaultPause)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	j := &Job{o: o, clock: clock.Or(o.Clock), ctx: ctx, stop: stop}
	if o.Policy.removes() {
		j.stopped.Add(1)
		go j.loop()
	}
	return j
}

// Close stops the job, ending a run under way between two batches, and
// waits for it.
func (j *Job) Close() {
	j.stop()
	j.stopped.Wait()
}

func (j *Job) loop() {
	defer j.stopped.Done()
	for {
		t := j.clock.NewTimer(j.o.Every)
		select {
		case <-j.ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		if _, err := j.Run(j.ctx); err != nil && j.ctx.Err() == nil {
			j.o.Log.Error("retention run failed", "err", err)
		}
	}
}

// Report is what one run removed, by kind.
type Report map[string]int

// Run enforces the policy once, now, and returns what it removed. It
// ends early, with ctx's error, when ctx ends or the job is closed.
func (j *Job) Run(ctx context.Context) (Report, error) {
	j.runMu.Lock()
	defer j.runMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(j.ctx, cancel)
	defer stop()

	started := j.clock.Now()
	rep := Report{}
	var err error
	for _, kind := range Kinds {
		for _, p := range j.o.Policy.passes(kind, started) {
			var n int
			n, err = j.pass(ctx, kind, p)
			rep[kind] += n
			if err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if rep[KindUploads] > 0 && j.o.Uploads != nil {
		j.o.Uploads.Forget("") // its cleanup removes the files now
	}
	j.record(rep, started, err)
	return rep, err
}

// pass is one scope's bounded batches: each examines at most Batch rows,
// after the previous one's, in its own transaction, and the job pauses
// between them.
func (j *Job) pass(ctx context.Context, kind string, p pass) (int, error) {
	total := 0
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var e store.Expired
		var err error
		switch kind {
		case KindArchive:
			e, err = j.o.Store.ExpireArchive(ctx, p.scope, p.before, after, j.o.Batch)
		case KindOffline:
			e, err = j.o.Store.ExpireOffline(ctx, p.scope, p.before, after, j.o.Batch)
		case KindUploads:
			e, err = j.o.Store.ExpireUploads(ctx, p.scope, p.before, j.clock.Now(), after, j.o.Batch)
		}
		total += e.Removed
		if e.Removed > 0 && j.o.Metrics != nil {
			j.o.Metrics.RetentionDeleted(kind, e.Removed)
		}
		if err != nil || e.Done {
			return total, err
		}
		after = e.Next
		t := j.clock.NewTimer(j.o.Pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		case <-t.C():
		}
	}
}

// record writes the run's audit record and metric.
func (j *Job) record(rep Report, started time.Time, err error) {
	now := j.clock.Now()
	if j.o.Metrics != nil {
		j.o.Metrics.RetentionRun(err == nil, now)
	}
	if j.o.Audit == nil {
		return
	}
	r := audit.Record{Actor: "retention", Action: audit.ActionRetention, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{"started": started.UTC().Format(time.RFC3339Nano)}}
	for _, k := range Kinds {
		r.Details[k] = strconv.Itoa(rep[k])
	}
	if err != nil {
		r.Outcome, r.Details["error"] = audit.OutcomeFailure, err.Error()
	}
	j.o.Audit.Emit(r)
}

// pass is one delete scope with its cutoff.
type pass struct {
	scope  store.RetentionScope
	before time.Time
}

// passes are kind's scopes at now: one per distinct period of the owners
// with their own, then everyone else at the site-wide period. Periods of
// 0 (forever) remove nothing and make no pass; an owner kept forever by
// its policy is still excluded from the site-wide pass.
func (p Policy) passes(kind string, now time.Time) []pass {
	owners := p.Owners[kind]
	byPeriod := map[time.Duration][]string{}
	for o, d := range owners {
		if d > 0 {
			byPeriod[d] = append(byPeriod[d], o)
		}
	}
	var out []pass
	for _, d := range slices.Sorted(maps.Keys(byPeriod)) {
		out = append(out, pass{scope: store.RetentionScope{Owners: slices.Sorted(slices.Values(byPeriod[d]))}, before: now.Add(-d)})
	}
	if d := p.Site[kind]; d > 0 {
		out = append(out, pass{scope: store.RetentionScope{Except: slices.Sorted(maps.Keys(owners))}, before: now.Add(-d)})
	}
	return out
}

// removes reports whether any period is not forever.
func (p Policy) removes() bool {
	for _, d := range p.Site {
		if d > 0 {
			return true
		}
	}
	for _, m := range p.Owners {
		for _, d := range m {
			if d > 0 {
				return true
			}
		}
	}
	return false
}
