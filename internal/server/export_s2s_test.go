package server

// SetS2SRoute points federation at a peer's address once both listen
// (port 0 is known only after Start).
func SetS2SRoute(s *Server, domain, addr string) { s.s2s.SetRoute(domain, addr) }

func S2SPongs(s *Server) int { return s.s2s.Pongs() }
