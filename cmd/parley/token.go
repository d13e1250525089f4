package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"parley/internal/adminapi"
	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/store"
)

const tokenSynopsis = "token create --role ROLE [--expires 30d] [--name NAME] [--user JID] | token list | token revoke ID"

// runToken manages the admin API's bearer tokens. No control socket
// exists yet, so it writes the store directly, as the user verbs do; a
// running server sees a new or revoked token at its next request, since
// it looks every token up in the store.
func runToken(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("usage: parley %s", tokenSynopsis)}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("token "+sub, tokenSynopsis, stderr)
	var role, expires, name, user *string
	wantArgs := 0
	switch sub {
	case "create":
		role = fs.String("role", "", "the token's `role`: admin, helpdesk, compliance or auditor")
		expires = fs.String("expires", "", "`lifetime`: days (30d) or a duration (12h); default never")
		name = fs.String("name", "", "a `label` to recognise the token by in listings and the audit log")
		user = fs.String("user", "", "the account (`JID`) the token belongs to: suspending or deleting it revokes the token")
	case "list":
	case "revoke":
		wantArgs = 1
	default:
		return usageError{fmt.Errorf("token: unknown subcommand %q", sub)}
	}
	cfg, pos, err := config.FromArgs(fs, args)
	if err != nil {
		return usageError{err}
	}
	if len(pos) != wantArgs {
		if wantArgs == 0 {
			return usageError{fmt.Errorf("token %s takes no arguments", sub)}
		}
		return usageError{fmt.Errorf("token %s takes one token ID", sub)}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	var lifetime time.Duration
	var username string
	if sub == "create" {
		if !adminapi.ValidRole(*role) {
			return usageError{fmt.Errorf("token create: --role must be one of admin, helpdesk, compliance, auditor (got %q)", *role)}
		}
		if lifetime, err = adminapi.ParseLifetime(*expires); err != nil {
			return usageError{err}
		}
		if *user != "" {
			if username, err = usernameOf(*user, cfg.Domain); err != nil {
				return usageError{err}
			}
		}
	}

	ctx := context.Background()
	st, err := openStore(ctx, cfg, sub == "create")
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		err = tokenCreate(ctx, cfg, st, *role, *name, username, lifetime, stdout, stderr)
	case "list":
		err = tokenList(ctx, st, cfg.Domain, stdout)
	case "revoke":
		err = st.RevokeToken(ctx, pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no token %s", pos[0])
		}
		if err == nil {
			err = recordCLI(ctx, cfg, st, audit.Record{Action: audit.ActionTokenRevoked, Target: "token:" + pos[0]})
		}
		if err == nil {
			fmt.Fprintf(stdout, "revoked %s\n", pos[0])
		}
	}
	if err != nil {
		return err
	}
	return st.Close()
}

func tokenCreate(ctx context.Context, cfg config.Config, st store.Store, role, name, username string, lifetime time.Duration, stdout, stderr io.Writer) error {
	var expires time.Time
	if lifetime > 0 {
		expires = time.Now().Add(lifetime).UTC().Truncate(time.Second)
	}
	token, t, err := adminapi.Issue(ctx, st, role, name, username, expires)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s@%s", username, cfg.Domain)
	}
	if err != nil {
		return err
	}
	details := map[string]string{"id": t.ID, "role": role, "name": name}
	if username != "" {
		details["user"] = username + "@" + cfg.Domain
	}
	if err := recordCLI(ctx, cfg, st, audit.Record{Action: audit.ActionTokenCreated, Target: "token:" + t.ID, Details: details}); err != nil {
		return err
	}
	// The token alone on stdout, so that scripts can capture it; what it
	// is on stderr. It is not shown again: the store keeps only its hash.
	fmt.Fprintln(stdout, token)
	exp := "never expires"
	if !expires.IsZero() {
		exp = "expires " + expires.Format(time.RFC3339)
	}
	fmt.Fprintf(stderr, "token %s (role %s, %s); store it now, it cannot be shown again\n", t.ID, role, exp)
	return nil
}

func tokenList(ctx context.Context, st store.APITokens, domain string, stdout io.Writer) error {
	list, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
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
