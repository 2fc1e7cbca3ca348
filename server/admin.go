package server

// CheckCredentials reports whether user and pass would pass AUTH ("" names
// the default user). It refuses everyone while no password is required, so
// a server without one never opens the admin page to anyone.
func (s *Server) CheckCredentials(user, pass string) bool {
	if user == "" {
		user = "default"
	}
	return s.authRequired() && s.acl.authenticate(user, []byte(pass))
}

// CommandsProcessed is INFO's total_commands_processed.
func (s *Server) CommandsProcessed() int64 { return s.stats.commands.Load() }
