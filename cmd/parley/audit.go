package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/store"
)

const auditSynopsis = "audit verify|export [flags]"

// auditSubs are the subcommands of audit and their positional arguments.
var auditSubs = map[string]string{"verify": "", "export": ""}

// runAudit checks or exports the audit log, reading the store directly (a
// running server may keep writing: SQLite readers do not block it).
func runAudit(args []string, stdout, stderr io.Writer) error {
	sub, args, fs, err := subcommand("audit", auditSynopsis, auditSubs, args, stderr)
	if err != nil {
		return err
	}
	var since, until, actor, action, out, key *string
	switch sub {
	case "verify":
		key = fs.String("public-key", "", "the checkpoint public key `file` (default <data>/"+audit.PublicKeyFile+")")
	case "export":
		since = fs.String("since", "", "records at or after this `time` (RFC 3339, or a date: 2026-12-01)")
		until = fs.String("until", "", "records before this `time` (RFC 3339, or a date: before its start)")
		actor = fs.String("actor", "", "only records of this `actor`")
		action = fs.String("action", "", "only records of this `action` (login, login-failed, account-created, ...)")
		out = fs.String("output", "", "write to this `file` instead of stdout")
	}
	cfg, _, err := subcommandConfig(fs, args, "")
	if err != nil {
		return err
	}
	ctx := context.Background()
	if sub == "verify" {
		return auditVerify(ctx, cfg, *key, stdout)
	}
	q := store.AuditQuery{Actor: *actor, Action: *action}
	if q.Since, err = parseTime("--since", *since, false); err != nil {
		return err
	}
	if q.Until, err = parseTime("--until", *until, false); err != nil {
		return err
	}
	return auditExport(ctx, cfg, q, *out, stdout, stderr)
}

// parseTime reads the time a flag gives, in UTC: RFC 3339, or a date
// (2026-01-31, UTC) for the start of that day or, with end, its last
// instant, so that a range of days includes its last day; "" is the zero
// time.
func parseTime(flag, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("%s %q is neither RFC 3339 nor a date (2026-01-31)", flag, s)}
	}
	if end {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}

// publicKey loads the audit key's public half from keyFile, or by default
// from the data directory.
func publicKey(cfg config.Config, keyFile string) (ed25519.PublicKey, error) {
	if keyFile != "" {
		return audit.LoadPublicKeyFile(keyFile)
	}
	return audit.LoadPublicKey(cfg.Data)
}

// openAudit opens the configured store for its audit log.
func openAudit(ctx context.Context, cfg config.Config) (store.Store, store.Audit, error) {
	st, err := openStore(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	a, ok := st.(store.Audit)
	if !ok {
		st.Close()
		return nil, nil, errors.New("this store keeps no audit log")
	}
	return st, a, nil
}

// auditVerify prints Verify's report; a tampered log fails the command.
func auditVerify(ctx context.Context, cfg config.Config, keyFile string, stdout io.Writer) error {
	pub, err := publicKey(cfg, keyFile)
	if err != nil {
		return err
	}
	st, a, err := openAudit(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, a, pub)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep)
	if !rep.OK() {
		return errReported
	}
	return nil
}

func auditExport(ctx context.Context, cfg config.Config, q store.AuditQuery, out string, stdout, stderr io.Writer) error {
	st, a, err := openAudit(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := audit.Export(ctx, a, q, w)
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(stderr, "exported %d records to %s\n", n, out)
	}
	return nil
}

// appendCLI appends what a command did on the store itself (no server
// ran it: a server records what it runs, its audit log has one writer) to
// the audit log of the open store, durably, with "cli" and the
// operating-system user as the actor. The command line writes the store
// only when no server runs (DESIGN.md), so it is the log's only writer
// meanwhile. A record without an action records nothing.
func appendCLI(ctx context.Context, cfg config.Config, st store.Store, r audit.Record) error {
	if r.Action == "" {
		return nil
	}
	a, ok := st.(store.Audit)
	if !ok {
		return nil
	}
	key, err := audit.LoadOrCreateKey(cfg.Data)
	if err != nil {
		return err
	}
	l, err := audit.Open(ctx, audit.Options{Store: a, Key: key,
		CheckpointEvery: cfg.Audit.CheckpointEvery, CheckpointInterval: cfg.Audit.CheckpointInterval.Duration})
	if err != nil {
		return err
	}
	defer l.Close()
	r.Actor = "cli"
	if u := os.Getenv("USER"); u != "" {
		r.Actor = "cli:" + u
	}
	if r.Outcome == "" {
		r.Outcome = audit.OutcomeSuccess
	}
	if _, err := l.Append(ctx, r); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
