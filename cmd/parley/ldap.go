package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"parley/internal/directory"
	"parley/internal/jid"
)

const ldapSynopsis = "ldap test [flags] USER"

// ldapSubs are the subcommands of ldap and their positional arguments.
var ldapSubs = map[string]string{"test": "USER"}

// runLDAP shows what parley sees of a directory user ([auth.ldap]): the
// entry's DN, the groups that list it and the vCard fields, asking the
// directory directly (no server needed, nothing written).
func runLDAP(args []string, stdout, stderr io.Writer) error {
	sub, args, fs, err := subcommand("ldap", ldapSynopsis, ldapSubs, args, stderr)
	if err != nil {
		return err
	}
	cfg, pos, err := subcommandConfig(fs, args, ldapSubs[sub])
	if err != nil {
		return err
	}
	if !cfg.Auth.LDAP.On() {
		return errors.New("ldap test: no [auth.ldap] url in the configuration")
	}
	// The same PRECIS normalisation a login goes through.
	user, err := jid.Localpart(strings.TrimSuffix(pos[0], "@"+cfg.Domain))
	if err != nil {
		return usageError{fmt.Errorf("ldap test: %q is not a username: %v", pos[0], err)}
	}
	domain, err := jid.Parse(cfg.Domain)
	if err != nil {
		return err
	}
	d, err := directory.New(directory.Options{Config: cfg.Auth.LDAP, Domain: domain})
	if err != nil {
		return err
	}
	defer d.Close()
	ctx := context.Background()
	e, err := d.Lookup(ctx, user)
	if errors.Is(err, directory.ErrNotFound) {
		return fmt.Errorf("ldap test: no entry under %s matches user_filter with %s=%s",
			cfg.Auth.LDAP.UserBase, cfg.Auth.LDAP.WithDefaults().LocalpartAttribute, user)
	}
	if err != nil {
		return fmt.Errorf("ldap test: %w", err)
	}
	groups, err := d.GroupsOf(ctx, e)
	if err != nil {
		return fmt.Errorf("ldap test: groups: %w", err)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s\t%s\n", k, v)
		}
	}
	row("jid", user+"@"+domain.String())
	row("dn", e.DN)
	row("groups", strings.Join(groups, ", "))
	row("fn", e.Name)
	row("title", e.Title)
	row("org", e.Org)
	row("department", e.Department)
	row("phone", e.Phone)
	row("email", e.Email)
	if len(e.Photo) > 0 {
		note := ""
		if len(e.Photo) > directory.MaxPhoto {
			note = fmt.Sprintf(" (over %d: not served)", directory.MaxPhoto)
		}
		row("photo", fmt.Sprintf("%d bytes, %s%s", len(e.Photo), http.DetectContentType(e.Photo), note))
	}
	return w.Flush()
}
