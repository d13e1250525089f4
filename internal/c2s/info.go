package c2s

import "time"

// Info tells operators (the admin API, through internal/control) where a
// bound session comes from: the client's address, the transport and when
// its connection opened. These fields are set before the session binds
// and never written after (STARTTLS changes the transport before SASL),
// and the router publishes a session under its lock at bind, so any
// goroutine that found the session in the router may read them. After a
// stream management resumption they still describe the first connection.
func (s *session) Info() (ip, transport string, since time.Time) {
	return s.ip, s.transport, s.started
}
