// Package interop drives third-party XMPP software against an in-process
// parley: slixmpp (Debian's python3-slixmpp, run with /usr/bin/python3) and
// go-sendxmpp. Missing software skips the tests locally and fails them
// when CI=true, so CI cannot pass by skipping.
package interop
