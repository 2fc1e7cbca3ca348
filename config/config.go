package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// value is one directive's parsed value; which field is used depends on the
// directive's kind.
type value struct {
	i int64    // kindInt, kindSize, kindBool (0 / 1); keyspace flags for notify-keyspace-events
	s string   // kindEnum (canonical spelling), kindString
	l []string // kindStrings
}

// Config holds every directive's value. It is safe for concurrent use; CONFIG
// SET changes it while the server runs.
type Config struct {
	mu   sync.RWMutex
	vals []value // indexed by spec.idx

	hooksMu sync.RWMutex
	hooks   []func(name string)
}

// Default returns a configuration with every directive at its default.
func Default() *Config {
	c := &Config{vals: make([]value, len(defaults))}
	copy(c.vals, defaults) // list values are never modified in place
	return c
}

// Load parses sessdb's command line (os.Args[1:]) exactly like redis-server:
// an optional configuration file path first (if it does not start with '-'),
// then "--directive value ..." options which override the file. Errors in the
// configuration are *FileError values.
func Load(args []string) (*Config, error) {
	c := Default()
	if len(args) == 0 {
		return c, nil
	}
	var text string
	j := 0
	if args[0] == "" || args[0][0] != '-' {
		data, err := os.ReadFile(args[0])
		if err != nil {
			reason := err.Error()
			var pe *os.PathError
			if errors.As(err, &pe) {
				reason = pe.Err.Error()
			}
			return nil, fmt.Errorf("Fatal error, can't open config file '%s': %s", args[0], reason)
		}
		text = string(data)
		j = 1
	}
	options, err := optionsText(args, j)
	if err != nil {
		return nil, err
	}
	text += "\n" + options
	if err := c.loadString(text); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse parses the body of a configuration file (redis.conf syntax) on top of
// the defaults.
func Parse(body string) (*Config, error) {
	c := Default()
	if err := c.loadString(body); err != nil {
		return nil, err
	}
	return c, nil
}

// optionsText renders command-line options as configuration lines like
// redis-server 7.0's main(): "--name" starts a line, other arguments are
// appended quoted with sdscatrepr.
func optionsText(args []string, j int) (string, error) {
	var b strings.Builder
	handledLast := true
	for ; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "-" && (j == 0 || j == len(args)-1):
			return "", errors.New("reading the configuration from stdin is not supported")
		case handledLast && strings.HasPrefix(a, "--"):
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(a[2:])
			b.WriteByte(' ')
			if parts, err := SplitArgs(a); err == nil && len(parts) == 1 {
				// Only the option's name: its value follows.
				handledLast = false
				isSave := strings.EqualFold(a, "--save")
				last := j == len(args)-1
				if isSave && (last || strings.HasPrefix(args[j+1], "--")) {
					// "--save --x" and a trailing "--save" mean save "".
					b.WriteString(`""`)
					handledLast = true
				}
			} else {
				// Name and value in one argument: "--port 6380".
				handledLast = true
			}
		default:
			b.WriteString(quoteRepr(a))
			b.WriteByte(' ')
			handledLast = true
		}
	}
	return b.String(), nil
}

// loadString applies configuration text like loadServerConfigFromString.
func (c *Config) loadString(text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	saveLoaded := false
	for n, raw := range strings.Split(text, "\n") {
		line := strings.Trim(raw, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(reason string) error {
			return &FileError{Line: n + 1, Text: line, Reason: reason}
		}
		argv, err := SplitArgs(line)
		if err != nil {
			return fail(reasonUnbalanced)
		}
		if len(argv) == 0 {
			continue
		}
		s := lookup(argv[0])
		if s == nil {
			return fail(reasonBadDirective)
		}
		args := argv[1:]
		if s.kind != kindStrings {
			if len(args) != 1 {
				return fail(reasonWrongArgs)
			}
		} else if len(args) == 1 && args[0] != "" {
			// "--bind 'a b'" style: one argument holding several. Like
			// Redis, an argument that does not split (unbalanced quotes)
			// counts as no arguments at all.
			if args, err = SplitArgs(args[0]); err != nil {
				args = nil
			}
		}
		v, reason := s.parse(args)
		if reason != "" {
			return fail(reason)
		}
		if s.name == "save" {
			// Redis appends save lines read from the configuration; the
			// first one replaces the default, and save "" resets.
			if saveLoaded && len(v.l) > 0 {
				v.l = append(append([]string(nil), c.vals[s.idx].l...), v.l...)
			}
			saveLoaded = true
		}
		if s.merge != nil {
			s.merge(c.vals[s.idx], &v)
		}
		c.vals[s.idx] = v
	}
	return nil
}

// parseSetValue parses a CONFIG SET value: multi-argument directives split it
// on single spaces like Redis's performInterfaceSet.
func (s *spec) parseSetValue(arg string) (value, string) {
	if s.kind == kindStrings {
		var args []string
		if arg != "" {
			args = strings.Split(arg, " ")
		}
		return s.parse(args)
	}
	return s.parse([]string{arg})
}

// parse validates a directive's arguments (exactly one unless kindStrings)
// and returns the value to store, or a Redis-style reason.
func (s *spec) parse(args []string) (value, string) {
	var v value
	if s.kind != kindStrings {
		if len(args) != 1 {
			return v, reasonWrongArgs
		}
		if r, ok := s.reject[strings.ToLower(args[0])]; ok {
			return v, r
		}
	}
	switch s.kind {
	case kindInt, kindSize:
		var ok bool
		if s.kind == kindInt {
			if v.i, ok = parseInt(args[0]); !ok {
				return v, reasonNotInteger
			}
		} else {
			var st sizeStatus
			switch v.i, st = parseSize(args[0]); st {
			case sizeInvalid:
				return v, reasonNotMemory
			case sizeOverflow: // Redis: wraps, then fails the bounds check
				return v, fmt.Sprintf(reasonOutOfRangeFmt, s.min, s.max)
			}
		}
		if v.i < s.min || v.i > s.max {
			return v, fmt.Sprintf(reasonOutOfRangeFmt, s.min, s.max)
		}
	case kindBool:
		switch {
		case strings.EqualFold(args[0], "yes"):
			v.i = 1
		case strings.EqualFold(args[0], "no"):
			v.i = 0
		default:
			return v, reasonNotBool
		}
	case kindEnum:
		found := false
		for _, e := range s.enum {
			if strings.EqualFold(args[0], e) {
				v.s, found = e, true
				break
			}
		}
		if !found {
			return v, reasonEnumPrefix + strings.Join(s.enum, ", ")
		}
	case kindString:
		v.s = args[0]
	case kindStrings:
		if len(args) == 1 && args[0] == "" {
			args = nil // a single "" means no values (bind "", save "")
		}
		v.l = append([]string{}, args...)
	}
	if s.check != nil {
		if r := s.check(&v); r != "" {
			return value{}, r
		}
	}
	if s.normalize != nil {
		s.normalize(&v)
	}
	return v, ""
}

// format renders a value the way CONFIG GET prints it.
func (s *spec) format(v value) string {
	switch s.kind {
	case kindInt, kindSize:
		return strconv.FormatInt(v.i, 10)
	case kindBool:
		if v.i != 0 {
			return "yes"
		}
		return "no"
	case kindStrings:
		return strings.Join(v.l, " ")
	default:
		return v.s
	}
}

// Get implements CONFIG GET for one pattern. See GetMany.
func (c *Config) Get(pattern string) [][2]string { return c.GetMany(pattern) }

// GetMany implements CONFIG GET: every directive whose name or alias matches
// one of the Redis glob patterns (case-insensitive) is returned once, as a
// name/value pair, sorted by name. Like Redis, a pattern without any of
// "[*?" is looked up directly and answered under the name as given, and
// aliases matching a glob are listed under their own name.
func (c *Config) GetMany(patterns ...string) [][2]string {
	type match struct {
		name string
		s    *spec
	}
	seen := map[string]bool{}
	var matches []match
	add := func(name string, s *spec) {
		if k := strings.ToLower(name); !seen[k] {
			seen[k] = true
			matches = append(matches, match{name, s})
		}
	}
	for _, p := range patterns {
		if !hasGlob(p) {
			if s := lookup(p); s != nil {
				add(p, s)
			}
			continue
		}
		for _, s := range directives {
			for _, n := range append([]string{s.name}, s.aliases...) {
				if globMatch(p, n, true) {
					add(n, s)
				}
			}
		}
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i].name < matches[j].name })
	out := make([][2]string, len(matches))
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, m := range matches {
		out[i] = [2]string{m.name, m.s.format(c.vals[m.s.idx])}
		if m.s.secret && out[i][1] != "" {
			out[i][1] = "(hidden)"
		}
	}
	return out
}

// Value returns one directive's value as CONFIG GET formats it, by name or
// alias (case-insensitive).
func (c *Config) Value(name string) (string, bool) {
	s := lookup(name)
	if s == nil {
		return "", false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return s.format(c.vals[s.idx]), true
}

// Set implements CONFIG SET for one parameter. The error is a *SetError
// whose text is Redis's reply.
func (c *Config) Set(name, value string) error {
	return c.SetMany([][2]string{{name, value}})
}

// SetMany implements CONFIG SET name value [name value ...]: either every
// parameter is set or none is. Errors follow Redis 7's checks and order:
// unknown, immutable and duplicate names first (the first offending one is
// reported), then each value in turn. OnChange callbacks run after the
// change, outside the lock, once per canonical name.
func (c *Config) SetMany(pairs [][2]string) error {
	if len(pairs) == 0 {
		return &SetError{}
	}
	specs := make([]*spec, len(pairs))
	var first error
	for i, p := range pairs {
		s := lookup(p[0])
		switch {
		case first != nil:
		case s == nil:
			first = &SetError{Name: p[0], Unknown: true}
		case s.immutable:
			first = &SetError{Name: p[0], Reason: reasonImmutable}
		default:
			for j := 0; j < i; j++ {
				if strings.EqualFold(pairs[j][0], p[0]) {
					first = &SetError{Name: p[0], Reason: reasonDuplicate}
					break
				}
			}
		}
		specs[i] = s
	}
	if first != nil {
		return first
	}
	vals := make([]value, len(pairs))
	for i, p := range pairs {
		v, reason := specs[i].parseSetValue(p[1])
		if reason != "" {
			return &SetError{Name: p[0], Reason: reason}
		}
		vals[i] = v
	}
	var changed []string
	c.mu.Lock()
	for i, s := range specs {
		if s.merge != nil {
			s.merge(c.vals[s.idx], &vals[i])
		}
		c.vals[s.idx] = vals[i]
		dup := false
		for _, n := range changed {
			dup = dup || n == s.name
		}
		if !dup {
			changed = append(changed, s.name)
		}
	}
	c.mu.Unlock()

	c.hooksMu.RLock()
	hooks := c.hooks
	c.hooksMu.RUnlock()
	for _, name := range changed {
		for _, fn := range hooks {
			fn(name)
		}
	}
	return nil
}

// OnChange registers fn to be called with the canonical directive name after
// every successful Set / SetMany of that directive (aliases report the
// canonical name, e.g. "busy-reply-threshold" for lua-time-limit). Callbacks
// run synchronously, in registration order, without any Config lock held, so
// they may read the Config.
func (c *Config) OnChange(fn func(name string)) {
	c.hooksMu.Lock()
	defer c.hooksMu.Unlock()
	c.hooks = append(c.hooks[:len(c.hooks):len(c.hooks)], fn)
}

// read returns a directive's value under the read lock.
func (c *Config) read(name string) value {
	s := byName[name]
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.vals[s.idx]
}

func (c *Config) getInt(name string) int64  { return c.read(name).i }
func (c *Config) getStr(name string) string { return c.read(name).s }
func (c *Config) getBool(name string) bool  { return c.read(name).i != 0 }
func (c *Config) seconds(name string) time.Duration {
	return time.Duration(c.getInt(name)) * time.Second
}

// Port is the TCP port for RESP clients (0 = do not listen on TCP).
func (c *Config) Port() int { return int(c.getInt("port")) }

// TLSPort is the TLS port (0 = disabled).
func (c *Config) TLSPort() int { return int(c.getInt("tls-port")) }

// TLSCertFile is the server certificate (PEM) for the TLS port.
func (c *Config) TLSCertFile() string { return c.getStr("tls-cert-file") }

// TLSKeyFile is the private key (PEM) of TLSCertFile.
func (c *Config) TLSKeyFile() string { return c.getStr("tls-key-file") }

// TLSCACertFile is the CA bundle (PEM) that client certificates must chain to.
func (c *Config) TLSCACertFile() string { return c.getStr("tls-ca-cert-file") }

// TLSAuthClients is "yes" (a client certificate is required), "no" or
// "optional" (verified when presented).
func (c *Config) TLSAuthClients() string { return c.getStr("tls-auth-clients") }

// TLSProtocols is the space-separated list of TLS versions to accept
// ("" = TLSv1.2 and TLSv1.3).
func (c *Config) TLSProtocols() string { return c.getStr("tls-protocols") }

// ACLFile is the file ACL SAVE writes and ACL LOAD and startup read ("" = none).
func (c *Config) ACLFile() string { return c.getStr("aclfile") }

// HTTPPort is the HTTP port (0 = disabled).
func (c *Config) HTTPPort() int { return int(c.getInt("http-port")) }

// AdminEnable reports whether the HTTP port serves the sessions admin page at /admin/.
func (c *Config) AdminEnable() bool { return c.getBool("admin-enable") }

// HTTPBind returns the addresses the HTTP face listens on (http-bind).
func (c *Config) HTTPBind() []string { return append([]string(nil), c.read("http-bind").l...) }

// HTTPClients returns the introspection clients (http-client): id -> secret.
func (c *Config) HTTPClients() map[string]string {
	l := c.read("http-client").l
	m := make(map[string]string, len(l)/2)
	for i := 0; i+1 < len(l); i += 2 {
		m[l[i]] = l[i+1]
	}
	return m
}

// JWTAlg returns the signing algorithm for new keys (jwt-alg).
func (c *Config) JWTAlg() string { return c.getStr("jwt-alg") }

// JWTIssuer returns the iss claim (jwt-issuer).
func (c *Config) JWTIssuer() string { return c.getStr("jwt-issuer") }

// JWTAudience returns the default audience (jwt-audience).
func (c *Config) JWTAudience() string { return c.getStr("jwt-audience") }

// JWTDefaultTTL returns a JWT's lifetime when none is asked for (jwt-default-ttl).
func (c *Config) JWTDefaultTTL() time.Duration { return c.seconds("jwt-default-ttl") }

// JWTMaxTTL returns the cap on a JWT's lifetime (jwt-max-ttl).
func (c *Config) JWTMaxTTL() time.Duration { return c.seconds("jwt-max-ttl") }

// JWTKeyPassphrase returns the passphrase that encrypts the signing keys at
// rest: jwt-key-passphrase, or else the SESSDB_JWT_KEY_PASSPHRASE environment
// variable. CONFIG GET never shows it.
func (c *Config) JWTKeyPassphrase() string {
	if p := c.getStr("jwt-key-passphrase"); p != "" {
		return p
	}
	return os.Getenv("SESSDB_JWT_KEY_PASSPHRASE")
}

// Bind returns the addresses to listen on; a leading '-' marks an address
// that may be unavailable, as in Redis.
func (c *Config) Bind() []string { return append([]string(nil), c.read("bind").l...) }

// Dir is the working directory holding the data files.
func (c *Config) Dir() string { return c.getStr("dir") }

// DBFilename is the snapshot file name inside Dir.
func (c *Config) DBFilename() string { return c.getStr("dbfilename") }

// AppendFsync is "always" or "everysec".
func (c *Config) AppendFsync() string { return c.getStr("appendfsync") }

// AppendFilename is the append-only file's base name.
func (c *Config) AppendFilename() string { return c.getStr("appendfilename") }

// AppendDirname is the append-only directory's name inside Dir.
func (c *Config) AppendDirname() string { return c.getStr("appenddirname") }

// RequirePass is the default user's password ("" = no AUTH needed).
func (c *Config) RequirePass() string { return c.getStr("requirepass") }

// Databases is the number of logical databases.
func (c *Config) Databases() int { return int(c.getInt("databases")) }

// MaxClients is the maximum number of connected clients.
func (c *Config) MaxClients() int { return int(c.getInt("maxclients")) }

// Timeout closes clients idle for longer (0 = never).
func (c *Config) Timeout() time.Duration { return c.seconds("timeout") }

// TCPKeepAlive is the TCP keep-alive period (0 = disabled).
func (c *Config) TCPKeepAlive() time.Duration { return c.seconds("tcp-keepalive") }

// ProtoMaxBulkLen is the largest bulk string a client may send, in bytes.
func (c *Config) ProtoMaxBulkLen() int64 { return c.getInt("proto-max-bulk-len") }

// ClientQueryBufferLimit is the largest query buffer per client, in bytes.
func (c *Config) ClientQueryBufferLimit() int64 { return c.getInt("client-query-buffer-limit") }

// OutputBufferLimit returns client-output-buffer-limit for a client class
// ("normal", "replica" or "pubsub"): the hard and soft limits in bytes (0:
// none) and how many seconds the soft limit may stay exceeded.
func (c *Config) OutputBufferLimit(class string) (hard, soft, softSeconds int64) {
	l := c.read("client-output-buffer-limit").l
	if i := 4 * outputClass(class); i >= 0 && i+3 < len(l) {
		hard, _ = strconv.ParseInt(l[i+1], 10, 64)
		soft, _ = strconv.ParseInt(l[i+2], 10, 64)
		softSeconds, _ = strconv.ParseInt(l[i+3], 10, 64)
	}
	return hard, soft, softSeconds
}

// MaxMemorySamples is how many keys eviction samples per database and round.
func (c *Config) MaxMemorySamples() int { return int(c.getInt("maxmemory-samples")) }

// MultiMaxQueuedBytes caps the total size of the commands one MULTI queues.
func (c *Config) MultiMaxQueuedBytes() int64 { return c.getInt("multi-max-queued-bytes") }

// LogLevel is debug, verbose, notice, warning or nothing.
func (c *Config) LogLevel() string { return c.getStr("loglevel") }

// LogFile is the log file path ("" = standard output).
func (c *Config) LogFile() string { return c.getStr("logfile") }

// ProtectedMode reports whether protected mode is on.
func (c *Config) ProtectedMode() bool { return c.getBool("protected-mode") }

// MaxMemory is the memory limit in bytes (0 = none).
func (c *Config) MaxMemory() int64 { return c.getInt("maxmemory") }

// MaxMemoryPolicy is the eviction policy, e.g. "noeviction".
func (c *Config) MaxMemoryPolicy() string { return c.getStr("maxmemory-policy") }

// NotifyKeyspaceEvents is the normalized flag string, e.g. "AKE" ("" = off).
func (c *Config) NotifyKeyspaceEvents() string { return c.getStr("notify-keyspace-events") }

// KeyspaceEvents is notify-keyspace-events as flags (including 'n' even
// when the display string shows only "A").
func (c *Config) KeyspaceEvents() KeyspaceEvents {
	return KeyspaceEvents(c.getInt("notify-keyspace-events"))
}

// Hz is the background task frequency, 1..500.
func (c *Config) Hz() int { return int(c.getInt("hz")) }

// SessionIdleTimeout expires sessions not touched for longer (0 = never).
func (c *Config) SessionIdleTimeout() time.Duration { return c.seconds("session-idle-timeout") }

// SessionAbsoluteTimeout expires sessions older than this (0 = never).
func (c *Config) SessionAbsoluteTimeout() time.Duration {
	return c.seconds("session-absolute-timeout")
}

// SessionMaxPerUser is the session limit per user (0 = unlimited).
func (c *Config) SessionMaxPerUser() int { return int(c.getInt("session-max-per-user")) }

// SessionLimitPolicy is "evict-oldest" or "refuse".
func (c *Config) SessionLimitPolicy() string { return c.getStr("session-limit-policy") }

// BusyReplyThreshold is busy-reply-threshold (alias lua-time-limit).
func (c *Config) BusyReplyThreshold() time.Duration {
	return time.Duration(c.getInt("busy-reply-threshold")) * time.Millisecond
}

// SlowlogLogSlowerThan is slowlog-log-slower-than in microseconds: -1
// disables the slow log, 0 logs every command.
func (c *Config) SlowlogLogSlowerThan() int64 { return c.getInt("slowlog-log-slower-than") }

// SlowlogMaxLen is the slow log's capacity.
func (c *Config) SlowlogMaxLen() int { return int(c.getInt("slowlog-max-len")) }

// LatencyMonitorThreshold is latency-monitor-threshold (0 = off).
func (c *Config) LatencyMonitorThreshold() time.Duration {
	return time.Duration(c.getInt("latency-monitor-threshold")) * time.Millisecond
}

// Save returns the save parameters as "seconds changes" pairs (nil = none).
func (c *Config) Save() [][2]int64 {
	l := c.read("save").l
	out := make([][2]int64, 0, len(l)/2)
	for i := 0; i+1 < len(l); i += 2 {
		s, _ := strconv.ParseInt(l[i], 10, 64)
		n, _ := strconv.ParseInt(l[i+1], 10, 64)
		out = append(out, [2]int64{s, n})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
