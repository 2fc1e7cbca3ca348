package httpapi

import (
	"net"
	"strconv"

	"github.com/sessdb/sessdb/config"
)

// OptionsFromConfig returns the Options the directives give: Addrs from
// http-bind and http-port, Clients from http-client, MaxConcurrent from
// maxclients and IdleTimeout from timeout (as on the RESP side). The caller
// sets DB, JWT, Metrics, Admin and Logger.
func OptionsFromConfig(cfg *config.Config) Options {
	o := Options{Clients: cfg.HTTPClients(), MaxConcurrent: cfg.MaxClients()}
	port := strconv.Itoa(cfg.HTTPPort())
	for _, addr := range cfg.HTTPBind() {
		prefix := ""
		if len(addr) > 0 && addr[0] == '-' {
			prefix, addr = "-", addr[1:]
		}
		o.Addrs = append(o.Addrs, prefix+net.JoinHostPort(addr, port))
	}
	if t := cfg.Timeout(); t > 0 {
		o.IdleTimeout = t
	}
	return o
}
