package server

import "net"

// SetListen replaces how s opens its listeners (before Start), so a test
// can give it a listener that fails.
func SetListen(s *Server, f func(network, addr string) (net.Listener, error)) { s.listen = f }
