// Package entitytime answers XEP-0202 Entity Time for the server's
// domain: its UTC time and its time zone offset (XEP-0082 formats). An
// account's bare JID is not the server's to answer (the time of a user is
// that of their clients, at full JIDs): service-unavailable, as for
// software versions (internal/im/serverquery answers both).
package entitytime
