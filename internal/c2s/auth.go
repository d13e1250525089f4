package c2s

// AuthEvent is the outcome of one SASL exchange (Config.OnAuth), for the
// audit log: who tried, how, from where, and what they were told.
type AuthEvent struct {
	Mechanism string
	// Username is the account authenticated or attempted (the
	// normalised localpart); empty when the client never named one.
	Username  string
	IP        string
	Transport string // "tcp", "tls", "websocket"
	// Condition is empty on success, else the RFC 6120 §6.5 failure
	// condition sent (not-authorized, account-disabled, ...).
	Condition string
}

// Success reports whether the exchange authenticated the client.
func (e AuthEvent) Success() bool { return e.Condition == "" }

// reportAuth tells Config.OnAuth about an exchange's outcome.
func (s *session) reportAuth(mechanism, username, condition string) {
	if f := s.srv.cfg.OnAuth; f != nil {
		f(AuthEvent{Mechanism: mechanism, Username: username, IP: s.ip, Transport: s.transport, Condition: condition})
	}
}
