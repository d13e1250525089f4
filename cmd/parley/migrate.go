package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"parley/internal/config"
	"parley/internal/store"
	"parley/internal/store/migrate"
	"parley/internal/store/postgres"
	"parley/internal/store/sqlite"
)

const migrateSynopsis = "migrate [flags] | migrate --from sqlite:DIR --to postgres://..."

// runMigrate is `parley migrate`. Without --from/--to it brings the
// configured store's schema up to date (as serve does at start) and
// prints the schema version. With them it copies a whole site from one
// store into another, empty one and verifies the copy by counts and
// checksums; either store is sqlite:DIR (the data directory) or a
// postgres:// URL. A URL is shown without its password.
func runMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", migrateSynopsis, stderr)
	from := fs.String("from", "", "copy from this store: sqlite:`DIR` or postgres://...")
	to := fs.String("to", "", "copy into this empty store: sqlite:`DIR` or postgres://...")
	cfg, pos, err := config.FromArgs(fs, args)
	if err != nil {
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{errors.New("migrate takes no arguments")}
	}
	ctx := context.Background()
	if *from == "" && *to == "" {
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		spec := "sqlite:" + cfg.Data
		if cfg.Store != "" {
			spec = cfg.Store
		}
		st, err := openSpec(ctx, spec, true)
		if err != nil {
			return err
		}
		defer st.Close()
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: schema version %d\n", showSpec(spec), v)
		return nil
	}
	if *from == "" || *to == "" {
		return usageError{errors.New("migrate: --from and --to go together")}
	}
	if *from == *to {
		return usageError{errors.New("migrate: --from and --to name the same store")}
	}
	src, err := openSpec(ctx, *from, false)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	dst, err := openSpec(ctx, *to, true)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "copying %s to %s\n", showSpec(*from), showSpec(*to))
	report, err := migrate.Copy(ctx, src, dst)
	if len(report.Tables) > 0 {
		printReport(stdout, report)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified: %d users and %d rooms have equal checksums\n", report.Users, report.Rooms)
	return nil
}

// migrationStore is what migrate needs of an opened store.
type migrationStore interface {
	store.Store
	SchemaVersion(ctx context.Context) (int, error)
}

// openSpec opens sqlite:DIR or a postgres:// URL, migrating its schema.
// A SQLite database must exist unless create is set.
func openSpec(ctx context.Context, spec string, create bool) (migrationStore, error) {
	switch {
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		st, err := postgres.Open(ctx, spec)
		if err != nil {
			return nil, err
		}
		return st, nil
	case strings.HasPrefix(spec, "sqlite:"):
		dir := strings.TrimPrefix(spec, "sqlite:")
		if dir == "" {
			return nil, usageError{errors.New("sqlite: needs a data directory, as in sqlite:/var/lib/parley")}
		}
		path := filepath.Join(dir, "parley.db")
		if create {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("data directory: %w", err)
			}
		} else if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s", path)
		}
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return st, nil
	default:
		return nil, usageError{fmt.Errorf("%s: a store is sqlite:DIR or a postgres:// URL", showSpec(spec))}
	}
}

// showSpec names a store for output: a URL without its password, or
// nothing of a string that does not parse as one (it may hold a
// password in a form we do not recognise).
func showSpec(spec string) string {
	if strings.HasPrefix(spec, "sqlite:") {
		return spec
	}
	u, err := url.Parse(spec)
	if err != nil || u.Host == "" {
		return "(store not shown)"
	}
	// Query parameters may carry a password too (password=...).
	u.RawQuery = ""
	return u.Redacted()
}

func printReport(w io.Writer, r migrate.Report) {
	fmt.Fprintf(w, "%-22s %12s %12s\n", "", "from", "to")
	for _, t := range r.Tables {
		mark := ""
		if t.From != t.To {
			mark = "  DIFFERS"
		}
		fmt.Fprintf(w, "%-22s %12d %12d%s\n", t.Name, t.From, t.To, mark)
	}
	for _, m := range r.Mismatches {
		fmt.Fprintf(w, "checksum differs: %s\n", m)
	}
	fmt.Fprintf(w, "site checksum (sha256): %s\n", r.Checksum)
}
