package config

import (
	"flag"
	"os"
)

// RegisterFlags binds the command-line flags that override the file. Each
// flag's default is the value c already holds, and it writes straight into
// c, so a flag changes c only when it is given. Call it after Load and parse
// before Validate:
//
//	cfg, err := config.Load(file)
//	cfg.RegisterFlags(fs)
//	fs.Parse(args)
//	err = cfg.Validate()
//
// FromArgs does the same and also finds the file from --config.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Domain, "domain", c.Domain, "XMPP `domain` served")
	fs.StringVar(&c.Data, "data", c.Data, "data `directory` (database, generated certificate)")
	fs.StringVar(&c.Store, "store", c.Store, "store `URL`: empty for SQLite in the data directory, or postgres://...")
	fs.StringVar(&c.Cert, "cert", c.Cert, "TLS certificate chain `file` (PEM)")
	fs.StringVar(&c.Key, "key", c.Key, "TLS private key `file` (PEM)")
	fs.StringVar(&c.Listen.C2S, "c2s", c.Listen.C2S, "client listener `host:port` (STARTTLS), or off")
	fs.StringVar(&c.Listen.C2STLS, "c2s-tls", c.Listen.C2STLS, "direct-TLS client listener `host:port`, or off")
	fs.StringVar(&c.Listen.HTTP, "http", c.Listen.HTTP, "HTTP listener `host:port` (WebSocket, metrics), or off")
	fs.StringVar(&c.Listen.Metrics, "metrics", c.Listen.Metrics, "Prometheus /metrics listener `host:port` (no authentication: keep it private), or off")
	fs.StringVar(&c.Listen.HTTPS, "https", c.Listen.HTTPS, "HTTPS listener `host:port` (WebSocket, uploads), or off")
	fs.StringVar(&c.Listen.Proxy65, "proxy65", c.Listen.Proxy65, "SOCKS5 bytestreams proxy listener `host:port` (XEP-0065), or off")
	fs.StringVar(&c.Listen.S2S, "s2s", c.Listen.S2S, "server-to-server listener `host:port` (used when [s2s] mode is not off), or off")
	fs.BoolVar(&c.AllowPlaintext, "allow-plaintext", c.AllowPlaintext, "allow authentication without TLS (loopback listeners only)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn or error")
}

// FromArgs parses args with fs, which gains --config and the flags of
// RegisterFlags, and returns the configuration they describe: defaults, the
// file named by --config (or $PARLEY_CONFIG), the environment, then the
// flags that were given. Flags and positional arguments may be mixed
// ("user add alice --password x"); everything after "--" is positional.
// The positional arguments are returned in order. FromArgs does not
// validate.
func FromArgs(fs *flag.FlagSet, args []string) (Config, []string, error) {
	return fromArgs(fs, args, os.Getenv)
}

func fromArgs(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, []string, error) {
	// Flags are parsed into a scratch Config first because the file they
	// name must be loaded before their values are laid over it.
	var scratch Config
	scratch.RegisterFlags(fs)
	path := fs.String("config", getenv(EnvConfig), "configuration `file` (TOML)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return Config{}, nil, err
	}
	c, err := load(*path, getenv)
	if err != nil {
		return Config{}, nil, err
	}
	// Replay only the flags that were set onto the loaded config.
	bound := flag.NewFlagSet("", flag.ContinueOnError)
	c.RegisterFlags(bound)
	var setErr error
	fs.Visit(func(f *flag.Flag) {
		if bf := bound.Lookup(f.Name); bf != nil && setErr == nil {
			setErr = bf.Value.Set(f.Value.String())
		}
	})
	if setErr != nil {
		return Config{}, nil, setErr
	}
	return c, pos, nil
}

// parseInterspersed lets flags follow positional arguments, which the flag
// package alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
