// Package version answers XEP-0092 Software Version queries addressed to
// the server's domain.
//
// The reply names the software and its build version but never the
// operating system: <os/> is optional (XEP-0092 §2), and telling anyone on
// the network which platform and patch level the server runs tells them
// which exploits to try (XEP-0092 §5 requires a way to turn it off; we
// simply never send it).
package version
