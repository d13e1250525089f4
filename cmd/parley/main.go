package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"parley/internal/config"
	"parley/internal/server"
)

const usage = `usage: parley <command> [flags] [arguments]

commands:
  serve                     run the server
  user add JID              create an account (password from --password or stdin;
                            --bot: a bot account, disco client/bot)
  user passwd JID           set an account's password
  user del JID              delete an account and everything it owns
  user suspend JID          lock an account out: refuse logins, end its sessions,
                            revoke its API tokens
  user resume JID           let a suspended account log in again
  user list                 list accounts
  room create ROOM --owner JID  create a persistent group chat room
  room list                 list persistent rooms
  room destroy ROOM         delete a persistent room
  migrate                   update the configured store's schema
  migrate --from sqlite:DIR --to postgres://URL
                            copy a site to another store and verify it
  config check [FILE]       validate a configuration file
  audit verify [--public-key FILE]
                            check the audit log's hash chain and signed checkpoints
  audit export [--since T] [--until T] [--actor A] [--action A] [--output FILE]
                            write audit records as JSON Lines
  token create --role ROLE [--expires 30d] [--name NAME] [--user JID]
                            create an admin API token (printed once)
  token list                list admin API tokens (never the tokens themselves)
  token revoke ID           revoke an admin API token
  ediscovery search [--participant JID]... [--room ROOM]... [--start T] [--end T] [--words W]
                            search every archive (compliance; audited)
  ediscovery export [the same flags] [--output FILE]
                            export a search as a signed zip, printing progress
  ediscovery jobs           list export jobs
  ediscovery delete ID      delete an export that has ended from the server
  ediscovery verify FILE [--public-key FILE]
                            check an export against its signed manifest
  ldap test USER            show what parley sees of a directory user
                            ([auth.ldap]): DN, groups, vCard fields
  hold create --name NAME [--reason TEXT] [--user JID]... [--room JID]...
              [--from DATE] [--to DATE]
                            place a legal hold: the archived messages it covers
                            survive retention, retraction and deletion
  hold list                 list legal holds, released ones too
  hold release ID           lift a legal hold (its record stays)
  version                   print the version

Every command except version takes --config FILE (default $PARLEY_CONFIG)
and --data DIR, --domain DOMAIN to override it. JID is user@domain on the
configured domain, or a bare username.
Run "parley <command> -h" for a command's flags.
`

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks an error in how the command was invoked (exit 2), as
// opposed to a failure while running it (exit 1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errReported means the command already printed what went wrong and only
// the exit status remains to be set.
var errReported = errors.New("reported")

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns its exit status. It takes its
// streams as arguments so tests run commands in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(args[1:])
	case "user":
		err = runUser(args[1:], stdin, stdout, stderr)
	case "room":
		err = runRoom(args[1:], stdout, stderr)
	case "migrate":
		err = runMigrate(args[1:], stdout, stderr)
	case "config":
		err = runConfig(args[1:], stdout, stderr)
	case "audit":
		err = runAudit(args[1:], stdout, stderr)
	case "token":
		err = runToken(args[1:], stdout, stderr)
	case "ediscovery":
		err = runEdiscovery(args[1:], stdout, stderr)
	case "ldap":
		err = runLDAP(args[1:], stdout, stderr)
	case "hold":
		err = runHold(args[1:], stdout, stderr)
	case "version":
		if len(args) > 1 {
			err = usageError{errors.New("version takes no arguments")}
			break
		}
		fmt.Fprintf(stdout, "parley %s %s\n", server.Version, runtime.Version())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usageError{fmt.Errorf("unknown command %q", args[0])}
	}
	return exitStatus(err, stderr)
}

func exitStatus(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		// The flag package has printed the command's usage on request.
		return exitOK
	case errors.Is(err, errReported):
		return exitFailure
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "parley: %v\nRun \"parley help\" for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "parley: %v\n", err)
		return exitFailure
	}
}

// newFlagSet returns a flag set whose -h output names the command.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: parley %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// listFlag is a flag that may be given several times; with comma set,
// each value may also be a comma-separated list.
type listFlag struct {
	list  []string
	comma bool
}

func (l *listFlag) String() string { return strings.Join(l.list, ",") }

func (l *listFlag) Set(v string) error {
	if !l.comma {
		l.list = append(l.list, v)
		return nil
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			l.list = append(l.list, s)
		}
	}
	return nil
}

// subcommand splits the arguments of `parley CMD SUB ARGS...` (args is
// SUB ARGS...) into the subcommand, the rest and the subcommand's flag
// set, named "CMD SUB". subs are CMD's subcommands, each with the
// positional argument it takes (subcommandConfig's arg); without a
// subcommand, or with one not there, it is a usage error.
func subcommand(cmd, synopsis string, subs map[string]string, args []string, stderr io.Writer) (string, []string, *flag.FlagSet, error) {
	if len(args) == 0 {
		return "", nil, nil, usageError{fmt.Errorf("usage: parley %s", synopsis)}
	}
	if _, ok := subs[args[0]]; !ok {
		return "", nil, nil, usageError{fmt.Errorf("%s: unknown subcommand %q", cmd, args[0])}
	}
	return args[0], args[1:], newFlagSet(cmd+" "+args[0], synopsis, stderr), nil
}

// subcommandConfig parses a subcommand's flags and configuration (fs is
// named "command sub") and checks its positional arguments: none when arg
// is "", else exactly one, which the error calls arg ("JID", "room").
func subcommandConfig(fs *flag.FlagSet, args []string, arg string) (config.Config, []string, error) {
	cfg, pos, err := config.FromArgs(fs, args)
	if err != nil {
		return cfg, nil, usageError{err}
	}
	switch {
	case arg == "" && len(pos) != 0:
		return cfg, nil, usageError{fmt.Errorf("%s takes no arguments", fs.Name())}
	case arg != "" && len(pos) != 1:
		return cfg, nil, usageError{fmt.Errorf("%s takes one %s", fs.Name(), arg)}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, pos, nil
}
