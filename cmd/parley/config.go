package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"parley/internal/config"
)

func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError{errors.New(`config: the only subcommand is "check"`)}
	}
	return configCheck(args[1:], stdout, stderr)
}

// configCheck validates what `serve` would run with: the file (named as an
// argument or by --config), the environment and the flags. Every problem is
// printed, one per line, and the exit status is 1 if there was any.
func configCheck(args []string, stdout, stderr io.Writer) error {
	const synopsis = "config check [flags] [FILE]"
	fs := newFlagSet("config check", synopsis, stderr)
	cfg, pos, err := config.FromArgs(fs, args)
	if err != nil {
		// A file that does not decode is a finding, not a usage error.
		var fe *config.FileError
		if errors.As(err, &fe) {
			fmt.Fprintln(stdout, err)
			return errReported
		}
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	file := fs.Lookup("config").Value.String()
	switch {
	case len(pos) > 1:
		return usageError{fmt.Errorf("usage: parley %s", synopsis)}
	case len(pos) == 1 && file != "" && pos[0] != file:
		return usageError{fmt.Errorf("config check: both FILE %q and --config %q given", pos[0], file)}
	case len(pos) == 1 && file == "":
		// Load the named file under the same environment and flags, by
		// putting it first as --config.
		file = pos[0]
		cfg, _, err = config.FromArgs(newFlagSet("config check", synopsis, stderr), append([]string{"--config", file}, args...))
		var fe *config.FileError
		if errors.As(err, &fe) {
			fmt.Fprintln(stdout, err)
			return errReported
		}
		if err != nil {
			return err
		}
	}
	if err := cfg.Validate(); err != nil {
		prefix := ""
		if file != "" {
			prefix = file + ": "
		}
		for _, p := range unjoin(err) {
			fmt.Fprintf(stdout, "%s%v\n", prefix, p)
		}
		return errReported
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
