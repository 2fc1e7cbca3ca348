package server

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sessdb/sessdb/storage"
)

func init() {
	adm := []string{"admin", "noscript", "loading", "stale"}
	register(
		&command{name: "dbsize", arity: 1, flags: []string{"readonly", "fast"}, access: accessWrite, group: "server", summary: "Returns the number of keys in the database.", since: "1.0.0", run: cmdDbsize},
		&command{name: "flushdb", arity: -1, flags: []string{"write"}, access: accessWrite, group: "server", summary: "Remove all keys from the current database.", since: "1.0.0", run: cmdFlush},
		&command{name: "flushall", arity: -1, flags: []string{"write"}, access: accessWrite, group: "server", summary: "Removes all keys from all databases.", since: "1.0.0", run: cmdFlush},
		&command{name: "swapdb", arity: 3, flags: []string{"write", "fast"}, access: accessWrite, group: "server", summary: "Swaps two Redis databases.", since: "4.0.0", run: cmdSwapdb},
		&command{name: "time", arity: 1, flags: []string{"loading", "stale", "fast"}, group: "server", summary: "Returns the server time.", since: "2.6.0", run: cmdTime},
		&command{name: "info", arity: -1, flags: []string{"loading", "stale"}, access: accessRead, group: "server", summary: "Returns information and statistics about the server.", since: "1.0.0", run: cmdInfo},
		&command{name: "config", arity: -2, group: "server", summary: "A container for server configuration commands.", since: "2.0.0", subs: map[string]*command{
			"get":       {name: "config|get", arity: -3, flags: adm, group: "server", summary: "Returns the effective values of configuration parameters.", since: "2.0.0", run: cmdConfigGet},
			"set":       {name: "config|set", arity: -4, flags: adm, group: "server", summary: "Sets configuration parameters in-flight.", since: "2.0.0", run: cmdConfigSet},
			"resetstat": {name: "config|resetstat", arity: 2, flags: adm, group: "server", summary: "Resets the server's statistics.", since: "2.0.0", run: cmdConfigResetstat},
			"rewrite":   {name: "config|rewrite", arity: 2, flags: adm, group: "server", summary: "Persists the effective configuration to file.", since: "2.8.0", run: cmdConfigRewrite},
			"help":      {name: "config|help", arity: 2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns helpful text about the different subcommands.", since: "5.0.0", run: cmdConfigHelp},
		}},
		&command{name: "command", arity: -1, flags: []string{"loading", "stale"}, group: "server", summary: "Returns detailed information about all commands.", since: "2.8.13", run: cmdCommand, subs: map[string]*command{
			"count":   {name: "command|count", arity: 2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns a count of commands.", since: "2.8.13", run: cmdCommandCount},
			"info":    {name: "command|info", arity: -2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns information about one, multiple or all commands.", since: "2.8.13", run: cmdCommandInfo},
			"docs":    {name: "command|docs", arity: -2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns documentary information about one, multiple or all commands.", since: "7.0.0", run: cmdCommandDocs},
			"list":    {name: "command|list", arity: -2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns a list of command names.", since: "7.0.0", run: cmdCommandList},
			"getkeys": {name: "command|getkeys", arity: -3, flags: []string{"loading", "stale"}, group: "server", summary: "Extracts the key names from an arbitrary command.", since: "2.8.13", run: cmdCommandGetkeys},
			"help":    {name: "command|help", arity: 2, flags: []string{"loading", "stale"}, group: "server", summary: "Returns helpful text about the different subcommands.", since: "5.0.0", run: cmdCommandHelp},
		}},
		&command{name: "function", arity: -2, group: "scripting", summary: "A container for function commands.", since: "7.0.0", subs: map[string]*command{
			"list":  {name: "function|list", arity: -2, flags: []string{"noscript"}, group: "scripting", summary: "Returns information about all libraries.", since: "7.0.0", run: cmdFunctionList},
			"flush": {name: "function|flush", arity: -2, flags: []string{"write", "noscript"}, group: "scripting", summary: "Deletes all libraries and functions.", since: "7.0.0", run: cmdFunctionFlush},
		}},
	)
}

func cmdDbsize(c *Client, tx *storage.Tx, _ [][]byte) { c.writeInt(int64(tx.Count(c.db))) }

func cmdFlush(c *Client, tx *storage.Tx, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !equalFold(args[1], "sync") && !equalFold(args[1], "async")) {
		c.writeError(errSyntax)
		return
	}
	if equalFold(args[0], "flushall") {
		tx.FlushAll()
	} else {
		tx.FlushDB(c.db)
	}
	c.writeOK()
}

func cmdSwapdb(c *Client, tx *storage.Tx, args [][]byte) {
	a, ok := parseInt(args[1])
	if !ok || a != int64(int32(a)) {
		c.writeError(errFirstDBIndex)
		return
	}
	b, ok := parseInt(args[2])
	if !ok || b != int64(int32(b)) {
		c.writeError(errSecondDBIndex)
		return
	}
	n := int64(tx.Databases())
	if a < 0 || a >= n || b < 0 || b >= n {
		c.writeError(errDBIndex)
		return
	}
	if a != b {
		tx.SwapDB(int(a), int(b))
	}
	c.writeOK()
}

func cmdTime(c *Client, _ *storage.Tx, _ [][]byte) {
	now := time.Now()
	c.writeArray(2)
	c.writeBulkString(strconv.FormatInt(now.Unix(), 10))
	c.writeBulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

func cmdConfigGet(c *Client, _ *storage.Tx, args [][]byte) {
	pats := make([]string, 0, len(args)-2)
	for _, a := range args[2:] {
		pats = append(pats, string(a))
	}
	pairs := c.srv.cfg.GetMany(pats...)
	c.writeMap(len(pairs))
	for _, p := range pairs {
		c.writeBulkString(p[0])
		c.writeBulkString(p[1])
	}
}

func cmdConfigSet(c *Client, _ *storage.Tx, args [][]byte) {
	if (len(args)-2)%2 != 0 {
		c.writeError(errSyntax)
		return
	}
	var pairs [][2]string
	for i := 2; i < len(args); i += 2 {
		pairs = append(pairs, [2]string{strings.ToLower(string(args[i])), string(args[i+1])})
	}
	if err := c.srv.cfg.SetMany(pairs); err != nil {
		c.writeError(err.Error())
		return
	}
	c.writeOK()
}

func cmdConfigResetstat(c *Client, _ *storage.Tx, _ [][]byte) {
	st := &c.srv.stats
	st.commands.Store(0)
	st.connections.Store(0)
	st.rejected.Store(0)
	st.expiredKeys.Store(0)
	st.keyspaceHits.Store(0)
	st.keyspaceMiss.Store(0)
	st.errorReplies.Store(0)
	st.queryBufferDisconnections.Store(0)
	c.srv.mem.evicted.Store(0)
	c.srv.ps.limits.disconnections.Store(0)
	c.writeOK()
}

func cmdConfigRewrite(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeError("ERR The server is running without a config file")
}

func cmdConfigHelp(c *Client, _ *storage.Tx, _ [][]byte) {
	c.writeHelp([]string{
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
		"RESETSTAT", "    Reset statistics reported by the INFO command.",
		"REWRITE", "    Rewrite the configuration file.",
		"HELP", "    Prints this help.",
	})
}

func cmdFunctionList(c *Client, _ *storage.Tx, args [][]byte) {
	withCode, libName := false, false
	for i := 2; i < len(args); i++ {
		switch {
		case !withCode && equalFold(args[i], "withcode"):
			withCode = true
		case !libName && equalFold(args[i], "libraryname"):
			if i+1 >= len(args) {
				c.writeError("ERR library name argument was not given")
				return
			}
			libName = true
			i++
		default:
			c.writeError("ERR Unknown argument " + string(args[i]))
			return
		}
	}
	c.writeArray(0)
}

func cmdFunctionFlush(c *Client, _ *storage.Tx, args [][]byte) {
	if len(args) > 3 || (len(args) == 3 && !equalFold(args[2], "sync") && !equalFold(args[2], "async")) {
		c.writeError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	c.writeOK()
}

// infoSections renders INFO's sections in Redis's order and field names.
func (s *Server) infoSection(name string, tx *storage.Tx) string {
	var b strings.Builder
	line := func(k string, v any) { fmt.Fprintf(&b, "%s:%v\r\n", k, v) }
	switch name {
	case "server":
		b.WriteString("# Server\r\n")
		line("redis_version", RedisVersion)
		line("sessdb_version", Version)
		line("redis_mode", "standalone")
		line("os", runtime.GOOS+" "+runtime.GOARCH)
		line("arch_bits", strconv.IntSize)
		line("multiplexing_api", "epoll")
		line("go_version", runtime.Version())
		line("process_id", os.Getpid())
		line("run_id", s.runID())
		line("tcp_port", s.cfg.Port())
		line("server_time_usec", time.Now().UnixMicro())
		up := time.Since(s.started)
		line("uptime_in_seconds", int64(up.Seconds()))
		line("uptime_in_days", int64(up.Hours()/24))
		line("hz", 10)
		line("executable", os.Args[0])
		line("config_file", "")
	case "clients":
		b.WriteString("# Clients\r\n")
		line("connected_clients", s.Clients())
		line("maxclients", s.cfg.MaxClients())
		line("blocked_clients", 0)
		line("tracking_clients", 0)
		_, _, _, subscribers := s.pubsubCounts()
		line("pubsub_clients", subscribers)
		line("watching_clients", s.watchingClients())
	case "memory":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.WriteString("# Memory\r\n")
		used, rss := s.usedMemory(), int64(rssBytes(ms.Sys)) // used: what maxmemory compares (memory.go)
		line("used_memory", used)
		line("used_memory_human", humanBytes(used))
		line("used_memory_rss", rss)
		line("used_memory_rss_human", humanBytes(rss))
		line("used_memory_peak", ms.HeapSys)
		line("heap_alloc", ms.HeapAlloc)
		line("maxmemory", s.cfg.MaxMemory())
		line("maxmemory_human", humanBytes(s.cfg.MaxMemory()))
		line("maxmemory_policy", s.cfg.MaxMemoryPolicy())
		line("mem_allocator", "go")
	case "persistence":
		st := s.db.Store().Stats()
		b.WriteString("# Persistence\r\n")
		line("loading", 0)
		s.persistenceInfo(line) // rdb_* (backups) and aof_* (disk errors): cmd_persist.go
		line("aof_enabled", 1)
		line("appendfsync", s.cfg.AppendFsync())
		line("commits", st.Commits)
		line("committed_records", st.Records)
		line("log_records", st.LogRecords)
		line("folded_records", st.Folded)
		if !st.LastSuccess.IsZero() {
			line("last_commit_time", st.LastSuccess.Unix())
		}
		if tx != nil { // INFO runs inside View: Store.ExpiryBacklog would take the lock again
			line("expiry_backlog", tx.ExpiryBacklog())
		}
	case "stats":
		b.WriteString("# Stats\r\n")
		line("total_connections_received", s.stats.connections.Load())
		line("total_commands_processed", s.stats.commands.Load())
		line("rejected_connections", s.stats.rejected.Load())
		line("expired_keys", s.stats.expiredKeys.Load())
		line("evicted_keys", s.mem.evicted.Load())
		line("keyspace_hits", s.stats.keyspaceHits.Load())
		line("keyspace_misses", s.stats.keyspaceMiss.Load())
		channels, patterns, shards, _ := s.pubsubCounts()
		line("pubsub_channels", channels)
		line("pubsub_patterns", patterns)
		line("pubsubshard_channels", shards)
		line("total_error_replies", s.stats.errorReplies.Load())
		line("client_query_buffer_limit_disconnections", s.stats.queryBufferDisconnections.Load())
		line("client_output_buffer_limit_disconnections", s.ps.limits.disconnections.Load())
		line("acl_access_denied_auth", s.stats.aclDeniedAuth.Load())
		line("acl_access_denied_cmd", s.stats.aclDeniedCmd.Load())
		line("acl_access_denied_key", s.stats.aclDeniedKey.Load())
		line("acl_access_denied_channel", s.stats.aclDeniedChannel.Load())
		line("auth_delayed_attempts", s.stats.authDelayed.Load())
		line("protected_mode_denied_connections", s.stats.protectedDenied.Load())
	case "replication":
		b.WriteString("# Replication\r\n")
		line("role", "master")
		line("connected_slaves", 0)
	case "cpu":
		b.WriteString("# CPU\r\n")
		line("used_cpu_sys", "0.000000")
		line("used_cpu_user", "0.000000")
	case "sessions":
		st := s.db.Sessions().Stats()
		b.WriteString("# Sessions\r\n")
		line("sessions_live", st.Live)
		line("sessions_users", st.Users)
		line("sessions_created", st.Created)
		line("sessions_revoked", st.Revoked)
		line("sessions_expired", st.Expired)
		line("sessions_invalid_lookups", st.InvalidLookups)
	case "keyspace":
		b.WriteString("# Keyspace\r\n")
		if tx != nil {
			for db := 0; db < tx.Databases(); db++ {
				if n, expires := tx.Size(db); n > 0 {
					fmt.Fprintf(&b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", db, n, expires)
				}
			}
		}
	}
	return b.String()
}

var infoDefault = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "sessions", "keyspace"}

func cmdInfo(c *Client, tx *storage.Tx, args [][]byte) {
	sections := infoDefault
	if len(args) > 1 {
		sections = nil
		for _, a := range args[1:] {
			n := strings.ToLower(string(a))
			if n == "all" || n == "everything" || n == "default" {
				sections = infoDefault
				break
			}
			sections = append(sections, n)
		}
	}
	var parts []string
	for _, n := range sections {
		if s := c.srv.infoSection(n, tx); s != "" {
			parts = append(parts, s)
		}
	}
	c.writeVerbatim(strings.Join(parts, "\r\n"))
}

func okErr(err error) string {
	if err != nil {
		return "err"
	}
	return "ok"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func (s *Server) runID() string { return fmt.Sprintf("%040x", s.started.UnixNano()) }

func (s *Server) watchingClients() int {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	seen := map[*Client]bool{}
	for _, m := range s.watched {
		for c := range m {
			seen[c] = true
		}
	}
	return len(seen)
}

// sortedCommands returns the top-level commands by name.
func (t commandTable) sorted() []*command {
	out := make([]*command, 0, len(t))
	for _, c := range t {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
