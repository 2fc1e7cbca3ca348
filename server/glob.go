package server

import "github.com/sessdb/sessdb/config"

// globMatch is Redis's stringmatchlen, shared with CONFIG GET.
func globMatch(p, s string, nocase bool) bool { return config.GlobMatch(p, s, nocase) }
