// Command parley is the parley XMPP server and its administration tools:
//
//	parley serve                  run the server
//	parley user add|passwd|del|list
//	parley config check [FILE]
//	parley version
//
// This package stays thin: it parses arguments, loads the configuration
// (internal/config) and calls into the library packages. Exit status is 0
// on success, 1 on a runtime error and 2 on a usage error.
package main
