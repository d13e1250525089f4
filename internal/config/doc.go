// Package config is parley's one configuration struct and how it is loaded:
// built-in defaults, then a parley.toml file (strictly decoded, so a
// misspelt key is an error that names its line rather than a setting that
// silently does nothing), then a few PARLEY_* environment variables, then
// command-line flags. Validate reports every problem at once, each naming
// the key, so an operator fixes a file in one pass.
//
// The package reads the environment only inside Load and FromArgs, never in
// init, and keeps no package-level state: the Config value is passed down
// explicitly.
package config
