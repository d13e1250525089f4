package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/store"
)

const tokenSynopsis = "token create --role ROLE [--expires 30d] [--name NAME] [--user JID] | token list | token revoke ID"

// tokenSubs are the subcommands of token and their positional arguments.
var tokenSubs = map[string]string{"create": "", "list": "", "revoke": "token ID"}

// runToken manages the admin API's bearer tokens through the running
// server's control socket, or the store when no server runs (operate).
func runToken(args []string, stdout, stderr io.Writer) error {
	sub, args, fs, err := subcommand("token", tokenSynopsis, tokenSubs, args, stderr)
	if err != nil {
		return err
	}
	var role, expires, name, user *string
	if sub == "create" {
		role = fs.String("role", "", "the token's `role`: admin, helpdesk, compliance or auditor")
		expires = fs.String("expires", "", "`lifetime`: days (30d) or a duration (12h); default never")
		name = fs.String("name", "", "a `label` to recognise the token by in listings and the audit log")
		user = fs.String("user", "", "the account (`JID`) the token belongs to: suspending or deleting it revokes the token")
	}
	cfg, pos, err := subcommandConfig(fs, args, tokenSubs[sub])
	if err != nil {
		return err
	}
	var lifetime time.Duration
	var username string
	if sub == "create" {
		if !control.ValidRole(*role) {
			return usageError{fmt.Errorf("token create: --role must be one of admin, helpdesk, compliance, auditor (got %q)", *role)}
		}
		if lifetime, err = control.ParseLifetime(*expires); err != nil {
			return usageError{err}
		}
		if *user != "" {
			if username, err = usernameOf(*user, cfg.Domain); err != nil {
				return usageError{err}
			}
		}
	}

	ctx := context.Background()
	switch sub {
	case "create":
		var exp time.Time
		if lifetime > 0 {
			exp = time.Now().Add(lifetime).UTC().Truncate(time.Second)
		}
		return tokenCreate(ctx, cfg, control.Request{Op: "token.create", Role: *role, Name: *name, User: username, Expires: exp}, stdout, stderr)
	case "list":
		resp, err := operate(ctx, cfg, false, control.Request{Op: "token.list"})
		if err != nil {
			return err
		}
		return tokenList(resp.Tokens, cfg.Domain, stdout)
	}
	id := pos[0]
	_, err = operate(ctx, cfg, false, control.Request{Op: "token.revoke", ID: id})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no token %s", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %s\n", id)
	return nil
}

func tokenCreate(ctx context.Context, cfg config.Config, req control.Request, stdout, stderr io.Writer) error {
	resp, err := operate(ctx, cfg, true, req)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s@%s", req.User, cfg.Domain)
	}
	if err != nil {
		return err
	}
	if len(resp.Tokens) != 1 || resp.Token == "" {
		return errors.New("token create: the server answered without a token")
	}
	t := resp.Tokens[0]
	// The token alone on stdout, so that scripts can capture it; what it
	// is on stderr. It is not shown again: the store keeps only its hash.
	fmt.Fprintln(stdout, resp.Token)
	exp := "never expires"
	if !t.Expires.IsZero() {
		exp = "expires " + t.Expires.Format(time.RFC3339)
	}
	fmt.Fprintf(stderr, "token %s (role %s, %s); store it now, it cannot be shown again\n", t.ID, t.Role, exp)
	return nil
}

func tokenList(list []store.APIToken, domain string, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tNAME\tUSER\tCREATED\tEXPIRES")
	for _, t := range list {
		user, exp := "-", "never"
		if t.Username != "" {
			user = t.Username + "@" + domain
		}
		if !t.Expires.IsZero() {
			exp = t.Expires.Format(time.RFC3339)
			if !t.Expires.After(time.Now()) {
				exp += " (expired)"
			}
		}
		name := t.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, name, user, t.Created.Format(time.RFC3339), exp)
	}
	return tw.Flush()
}
