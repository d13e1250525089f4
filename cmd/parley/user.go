package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/sasl"
	"parley/internal/store"
	"parley/internal/store/postgres"
	"parley/internal/store/sqlite"
)

const userSynopsis = "user add|passwd|del|suspend|resume|list [flags] [JID]"

// userSubs are the subcommands of user and their positional arguments
// (suspend and resume: suspend.go).
var userSubs = map[string]string{"add": "JID", "passwd": "JID", "del": "JID", "suspend": "JID", "resume": "JID", "list": ""}

func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, args, fs, err := subcommand("user", userSynopsis, userSubs, args, stderr)
	if err != nil {
		return err
	}
	var password *string
	bot := new(bool)
	if sub == "add" || sub == "passwd" {
		password = fs.String("password", "", "the new `password` (visible to other local users in ps; omit to read a line from stdin)")
		if sub == "add" {
			bot = fs.Bool("bot", false, "a bot account: disco shows it as client/bot")
		}
	}
	wantJID := userSubs[sub] != ""
	cfg, pos, err := subcommandConfig(fs, args, userSubs[sub])
	if err != nil {
		return err
	}
	var username string
	if wantJID {
		if username, err = usernameOf(pos[0], cfg.Domain); err != nil {
			return usageError{err}
		}
	}
	var pw string
	if password != nil {
		if pw, err = readPassword(*password, stdin); err != nil {
			return err
		}
	}

	resp, err := operate(context.Background(), cfg, sub == "add",
		control.Request{Op: "user." + sub, User: username, Password: pw, Bot: *bot})
	addr := username + "@" + cfg.Domain
	switch {
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("user %s already exists", addr)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no user %s", addr)
	case err != nil:
		return err
	}
	switch sub {
	case "add":
		fmt.Fprintf(stdout, "added %s\n", addr)
	case "passwd":
		fmt.Fprintf(stdout, "password changed for %s%s\n", addr, ended(resp.Ended))
	case "del":
		fmt.Fprintf(stdout, "deleted %s%s\n", addr, ended(resp.Ended))
	case "suspend", "resume":
		printSuspension(stdout, sub, addr, resp)
	case "list":
		for _, n := range resp.Users {
			fmt.Fprintf(stdout, "%s@%s\n", n, cfg.Domain)
		}
	}
	return nil
}

func ended(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d sessions ended)", n)
}

// operate runs an operation on the running server through its control
// socket in the data directory, which records a change in its audit log,
// or, when no server answers there, on the store directly with the same
// code (internal/control), and then records the change itself
// (control.AuditRecord; the command line writes the store only when no
// server runs, so the log still has one writer).
func operate(ctx context.Context, cfg config.Config, create bool, req control.Request) (control.Response, error) {
	resp, err := control.Call(ctx, cfg.Data, req)
	if !errors.Is(err, control.ErrNoServer) {
		return resp, err
	}
	st, err := openStore(ctx, cfg, create)
	if err != nil {
		return control.Response{}, err
	}
	defer st.Close()
	domain, err := jid.Parse(cfg.Domain)
	if err != nil {
		return control.Response{}, err
	}
	var done *control.Request
	ops := &control.Ops{Domain: domain, Users: st, Tokens: st, Holds: st, Done: func(r control.Request) { done = &r }}
	if rooms, ok := st.(store.Rooms); ok {
		ops.Rooms = control.StoredRooms{Store: rooms}
	}
	resp = ops.Do(ctx, req)
	if err := resp.Err(); err != nil {
		return resp, err
	}
	if done != nil {
		if r, ok := control.AuditRecord(*done, cfg.Domain); ok {
			if err := appendCLI(ctx, cfg, st, r); err != nil {
				return resp, err
			}
		}
	}
	return resp, st.Close()
}

// usernameOf accepts a bare JID on the configured domain, or a bare
// username, and returns the normalised username the store is keyed by.
func usernameOf(arg, domain string) (string, error) {
	if !strings.ContainsAny(arg, "@/") {
		u, err := jid.Localpart(arg)
		if err != nil {
			return "", fmt.Errorf("%q is not a valid username: %w", arg, err)
		}
		return u, nil
	}
	j, err := jid.Parse(arg)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid JID: %w", arg, err)
	}
	switch {
	case j.Local() == "":
		return "", fmt.Errorf("%q has no username (want user@%s)", arg, domain)
	case !j.IsBare():
		return "", fmt.Errorf("%q has a resource; give a bare JID (user@%s)", arg, domain)
	case j.Domain() != domain:
		return "", fmt.Errorf("%q is not on this server's domain %q (set --domain or --config)", arg, domain)
	}
	return j.Local(), nil
}

// readPassword returns the flag's value or, without one, the first line of
// stdin. Stdin keeps the password out of the process list and shell
// history; echo is not suppressed, since the typical caller is a script.
func readPassword(flagValue string, stdin io.Reader) (string, error) {
	pw := flagValue
	if pw == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		return "", usageError{errors.New("empty password (give --password or one line on stdin)")}
	}
	return pw, nil
}

// openStore opens the configured store. Only add may create the database:
// for the other commands a missing database almost always means a wrong
// --data, and creating an empty one there would hide that.
func openStore(ctx context.Context, cfg config.Config, create bool) (store.Store, error) {
	if cfg.Store != "" {
		st, err := postgres.Open(ctx, cfg.Store)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
	path := cfg.SQLitePath()
	if create {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	} else if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s (check --data or --config)", path)
	}
	return sqlite.Open(ctx, path)
}

// scramKeys derives the stored keys for both SCRAM hashes; the password
// itself is never stored or printed.
func scramKeys(password string) (sha1, sha256 store.ScramKeys, err error) {
	if sha1, err = sasl.NewKeys(sasl.SHA1, password, sasl.DefaultIterations); err != nil {
		return sha1, sha256, fmt.Errorf("password: %w", err)
	}
	if sha256, err = sasl.NewKeys(sasl.SHA256, password, sasl.DefaultIterations); err != nil {
		return sha1, sha256, fmt.Errorf("password: %w", err)
	}
	return sha1, sha256, nil
}
