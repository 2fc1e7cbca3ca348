package config

import (
	"math"
	"strconv"
	"strings"
)

// kind is how a directive's arguments are parsed and its value formatted.
type kind uint8

const (
	kindInt     kind = iota // decimal integer (Redis string2ll), bounded
	kindSize                // memory size with units (Redis memtoull), bounded
	kindBool                // yes / no
	kindEnum                // one of spec.enum, case-insensitive
	kindString              // any single string
	kindStrings             // several arguments (bind, save), joined by spaces
)

// Bounds used by the table, named after the C types Redis uses.
const (
	intMax   = math.MaxInt32
	intMin   = math.MinInt32
	uintMax  = math.MaxUint32
	longMax  = math.MaxInt64
	llongMax = math.MaxInt64
	kb       = 1024
	mb       = 1024 * kb
	gb       = 1024 * mb
)

// spec describes one directive. The table below drives Load, Get and Set.
type spec struct {
	name      string   // canonical name (lower case)
	aliases   []string // other names accepted everywhere (lower case)
	kind      kind
	def       string // default value, written as CONFIG SET would accept it
	min, max  int64  // bounds for kindInt and kindSize
	enum      []string
	immutable bool // CONFIG SET refuses it
	secret    bool // CONFIG GET shows "(hidden)" instead of a set value
	// reject maps lower-cased values that parse but sessdb does not support
	// to the reason given to the user.
	reject map[string]string
	// check validates a parsed value; it returns a reason or "".
	check func(v *value) string
	// normalize adjusts a valid value before it is stored (hz clamping).
	normalize func(v *value)
	// merge combines a parsed value with the current one before it is
	// stored (client-output-buffer-limit sets only the classes it names).
	merge func(old value, v *value)

	idx int // position in directives, set by init
}

// directives is the table of every directive sessdb understands, sorted by
// name. Defaults follow Redis 7 unless sessdb differs (bind, dbfilename,
// appendfsync, appendonly, hash-max-listpack-entries, ...).
var directives = []*spec{
	// sessdb's own directives.
	{name: "port", kind: kindInt, def: "6379", min: 0, max: 65535, immutable: true},
	{name: "tls-port", kind: kindInt, def: "0", min: 0, max: 65535, immutable: true},
	{name: "http-port", kind: kindInt, def: "0", min: 0, max: 65535, immutable: true},
	{name: "admin-enable", kind: kindBool, def: "no", immutable: true}, // the sessions admin page at /admin/ on http-port
	{name: "tls-cert-file", kind: kindString, def: "", immutable: true},
	{name: "tls-key-file", kind: kindString, def: "", immutable: true},
	{name: "tls-ca-cert-file", kind: kindString, def: "", immutable: true},
	{name: "tls-auth-clients", kind: kindEnum, def: "yes", enum: []string{"no", "yes", "optional"}, immutable: true},
	{name: "tls-protocols", kind: kindString, def: "", immutable: true, check: checkTLSProtocols},
	{name: "aclfile", kind: kindString, def: "", immutable: true},
	{name: "bind", kind: kindStrings, def: "127.0.0.1 -::1", immutable: true, check: checkBind},
	{name: "dir", kind: kindString, def: ".", immutable: true, check: checkNotEmpty("dir")},
	{name: "dbfilename", kind: kindString, def: "sessdb.db", immutable: true, check: checkBaseName("dbfilename", "filename")},
	{name: "appendfsync", kind: kindEnum, def: "always", enum: []string{"always", "everysec"},
		reject: map[string]string{"no": "appendfsync no is not supported: sessdb always fsyncs its log (use always or everysec)"}},
	{name: "appendonly", kind: kindBool, def: "yes",
		reject: map[string]string{"no": "appendonly no is not supported: sessdb always keeps its append-only log"}},
	{name: "requirepass", kind: kindString, def: ""},
	{name: "databases", kind: kindInt, def: "16", min: 1, max: intMax, immutable: true},
	{name: "maxclients", kind: kindInt, def: "10000", min: 1, max: uintMax},
	{name: "timeout", kind: kindInt, def: "0", min: 0, max: intMax},
	{name: "proto-max-bulk-len", kind: kindSize, def: "512mb", min: mb, max: longMax},
	{name: "client-query-buffer-limit", kind: kindSize, def: "1gb", min: mb, max: longMax},
	{name: "client-output-buffer-limit", kind: kindStrings, def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		check: checkOutputBufferLimit, normalize: normalizeOutputBufferLimit, merge: mergeOutputBufferLimit},
	{name: "multi-max-queued-bytes", kind: kindSize, def: "128mb", min: kb, max: longMax},
	{name: "loglevel", kind: kindEnum, def: "notice", enum: []string{"debug", "verbose", "notice", "warning", "nothing"}},
	{name: "logfile", kind: kindString, def: "", immutable: true},
	{name: "daemonize", kind: kindBool, def: "no", immutable: true,
		reject: map[string]string{"yes": "daemonize yes is not supported: run sessdb in the foreground under a supervisor"}},
	{name: "protected-mode", kind: kindBool, def: "yes"},
	{name: "tcp-keepalive", kind: kindInt, def: "300", min: 0, max: intMax},
	{name: "maxmemory", kind: kindSize, def: "0", min: 0, max: llongMax},
	{name: "maxmemory-policy", kind: kindEnum, def: "noeviction", enum: []string{
		"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
		"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}},
	{name: "notify-keyspace-events", kind: kindString, def: "", check: checkKeyspaceEvents, normalize: normalizeKeyspaceEvents},
	{name: "hz", kind: kindInt, def: "10", min: 0, max: intMax, normalize: clampHz},
	{name: "session-idle-timeout", kind: kindInt, def: "1800", min: 0, max: intMax},
	{name: "session-absolute-timeout", kind: kindInt, def: "43200", min: 0, max: intMax},
	{name: "session-max-per-user", kind: kindInt, def: "0", min: 0, max: intMax},
	{name: "session-limit-policy", kind: kindEnum, def: "evict-oldest", enum: []string{"evict-oldest", "refuse"}},
	{name: "jwt-alg", kind: kindEnum, def: "EdDSA", enum: []string{"EdDSA", "ES256"}, immutable: true},
	{name: "jwt-issuer", kind: kindString, def: "sessdb", immutable: true, check: checkNotEmpty("jwt-issuer")},
	{name: "jwt-audience", kind: kindString, def: "", immutable: true},
	{name: "jwt-default-ttl", kind: kindInt, def: "300", min: 1, max: 86400, immutable: true},
	{name: "jwt-max-ttl", kind: kindInt, def: "3600", min: 1, max: 86400, immutable: true},
	{name: "jwt-key-passphrase", kind: kindString, def: "", immutable: true, secret: true},
	{name: "http-bind", kind: kindStrings, def: "127.0.0.1", immutable: true, check: checkBind},
	{name: "http-client", kind: kindStrings, def: "", immutable: true, secret: true, check: checkHTTPClients},
	{name: "save", kind: kindStrings, def: "", check: checkSave, normalize: normalizeSave},
	{name: "busy-reply-threshold", aliases: []string{"lua-time-limit"}, kind: kindInt, def: "5000", min: 0, max: longMax},
	{name: "slowlog-log-slower-than", kind: kindInt, def: "10000", min: -1, max: llongMax},
	{name: "slowlog-max-len", kind: kindInt, def: "128", min: 0, max: longMax},
	{name: "latency-monitor-threshold", kind: kindInt, def: "0", min: 0, max: llongMax},

	// Redis tuning parameters: accepted, validated and stored, no effect.
	{name: "hash-max-listpack-entries", aliases: []string{"hash-max-ziplist-entries"}, kind: kindInt, def: "128", min: 0, max: longMax},
	{name: "hash-max-listpack-value", aliases: []string{"hash-max-ziplist-value"}, kind: kindSize, def: "64", min: 0, max: longMax},
	{name: "set-max-intset-entries", kind: kindInt, def: "512", min: 0, max: longMax},
	{name: "set-max-listpack-entries", kind: kindInt, def: "128", min: 0, max: longMax},
	{name: "set-max-listpack-value", kind: kindSize, def: "64", min: 0, max: longMax},
	{name: "zset-max-listpack-entries", aliases: []string{"zset-max-ziplist-entries"}, kind: kindInt, def: "128", min: 0, max: longMax},
	{name: "zset-max-listpack-value", aliases: []string{"zset-max-ziplist-value"}, kind: kindSize, def: "64", min: 0, max: longMax},
	{name: "list-max-listpack-size", aliases: []string{"list-max-ziplist-size"}, kind: kindInt, def: "-2", min: intMin, max: intMax},
	{name: "list-compress-depth", kind: kindInt, def: "0", min: 0, max: intMax},
	{name: "activerehashing", kind: kindBool, def: "yes"},
	{name: "lazyfree-lazy-eviction", kind: kindBool, def: "no"},
	{name: "lazyfree-lazy-expire", kind: kindBool, def: "no"},
	{name: "lazyfree-lazy-server-del", kind: kindBool, def: "no"},
	{name: "lazyfree-lazy-user-del", kind: kindBool, def: "no"},
	{name: "lazyfree-lazy-user-flush", kind: kindBool, def: "no"},
	{name: "active-expire-effort", kind: kindInt, def: "1", min: 1, max: 10},
	{name: "stream-node-max-bytes", kind: kindSize, def: "4096", min: 0, max: longMax},
	{name: "stream-node-max-entries", kind: kindInt, def: "100", min: 0, max: llongMax},
	{name: "lfu-log-factor", kind: kindInt, def: "10", min: 0, max: intMax},
	{name: "lfu-decay-time", kind: kindInt, def: "1", min: 0, max: intMax},
	{name: "maxmemory-samples", kind: kindInt, def: "5", min: 1, max: intMax},
	{name: "appendfilename", kind: kindString, def: "appendonly.aof", immutable: true, check: checkBaseName("appendfilename", "filename")},
	{name: "appenddirname", kind: kindString, def: "appendonlydir", immutable: true, check: checkBaseName("appenddirname", "dirname")},
	{name: "no-appendfsync-on-rewrite", kind: kindBool, def: "no"},
	{name: "auto-aof-rewrite-percentage", kind: kindInt, def: "100", min: 0, max: intMax},
	{name: "auto-aof-rewrite-min-size", kind: kindSize, def: "64mb", min: 0, max: llongMax},
	{name: "aof-use-rdb-preamble", kind: kindBool, def: "yes"},
	{name: "rdbcompression", kind: kindBool, def: "yes"},
	{name: "rdbchecksum", kind: kindBool, def: "yes", immutable: true},
	{name: "stop-writes-on-bgsave-error", kind: kindBool, def: "yes"},
	{name: "replica-read-only", aliases: []string{"slave-read-only"}, kind: kindBool, def: "yes"},
	{name: "repl-diskless-sync", kind: kindBool, def: "yes"},
	{name: "latency-tracking", kind: kindBool, def: "yes"},
	{name: "enable-debug-command", kind: kindEnum, def: "no", enum: []string{"no", "yes", "local"}, immutable: true},
	{name: "close-on-oom", kind: kindBool, def: "no"},
	{name: "io-threads", kind: kindInt, def: "1", min: 1, max: 128, immutable: true},
	{name: "tracking-table-max-keys", kind: kindInt, def: "1000000", min: 0, max: longMax},
	{name: "min-replicas-to-write", aliases: []string{"min-slaves-to-write"}, kind: kindInt, def: "0", min: 0, max: intMax},
	{name: "min-replicas-max-lag", aliases: []string{"min-slaves-max-lag"}, kind: kindInt, def: "10", min: 0, max: intMax},
}

// byName maps every canonical name and alias to its spec.
var byName = map[string]*spec{}

// defaults holds every directive's parsed default, indexed by spec.idx.
var defaults []value

func init() {
	defaults = make([]value, len(directives))
	for i, s := range directives {
		s.idx = i
		for _, n := range append([]string{s.name}, s.aliases...) {
			if _, dup := byName[n]; dup || n != strings.ToLower(n) {
				panic("config: bad directive table entry " + n)
			}
			byName[n] = s
		}
		v, reason := s.parseSetValue(s.def)
		if reason != "" {
			panic("config: bad default for " + s.name + ": " + reason)
		}
		defaults[i] = v
	}
}

// lookup finds a directive by any of its names, case-insensitively.
func lookup(name string) *spec {
	if s, ok := byName[name]; ok {
		return s
	}
	return byName[strings.ToLower(name)]
}

func checkNotEmpty(name string) func(v *value) string {
	return func(v *value) string {
		if v.s == "" {
			return name + " can't be empty"
		}
		return ""
	}
}

// checkBaseName mirrors Redis's isValidDBfilename / isValidAOFfilename /
// isValidAOFdirname (pathIsBaseName): no slash or backslash. Unlike Redis, an empty
// dbfilename is refused too.
func checkBaseName(name, what string) func(v *value) string {
	return func(v *value) string {
		if v.s == "" {
			return name + " can't be empty"
		}
		if strings.ContainsAny(v.s, "/\\") {
			return name + " can't be a path, just a " + what
		}
		return ""
	}
}

// checkTLSProtocols accepts what Redis's tls-protocols accepts: a
// space-separated list of TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3 (any case).
func checkTLSProtocols(v *value) string {
	for _, p := range strings.Fields(v.s) {
		switch strings.ToLower(p) {
		case "tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3":
		default:
			return "Invalid tls-protocols specified"
		}
	}
	return ""
}

// maxBindAddrs is Redis's CONFIG_BINDADDR_MAX.
const maxBindAddrs = 16

func checkBind(v *value) string {
	if len(v.l) > maxBindAddrs {
		return "Too many bind addresses specified."
	}
	return ""
}

// checkSave mirrors setConfigSaveOption: pairs of "seconds changes" with
// seconds >= 1 and changes >= 0.
func checkSave(v *value) string {
	if len(v.l)%2 != 0 {
		return "Invalid save parameters"
	}
	for i, a := range v.l {
		n, ok := parseStrtoll(a)
		if !ok || (i%2 == 0 && n < 1) || (i%2 == 1 && n < 0) {
			return "Invalid save parameters"
		}
	}
	return ""
}

// normalizeSave formats the pairs the way Redis prints its save params.
func normalizeSave(v *value) {
	l := make([]string, len(v.l))
	for i, a := range v.l {
		n, _ := parseStrtoll(a)
		l[i] = strconv.FormatInt(n, 10)
	}
	v.l = l
}

func checkKeyspaceEvents(v *value) string {
	if _, ok := ParseKeyspaceEvents(v.s); !ok {
		return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	}
	return ""
}

func normalizeKeyspaceEvents(v *value) {
	f, _ := ParseKeyspaceEvents(v.s)
	// Like Redis, keep every flag but display the normalized string (which
	// drops 'n' when 'A' is present: "An" reads back as "A").
	v.i = int64(f)
	v.s = f.String()
}

// clampHz mirrors Redis's CONFIG_MIN_HZ / CONFIG_MAX_HZ clamping.
func clampHz(v *value) {
	if v.i < 1 {
		v.i = 1
	}
	if v.i > 500 {
		v.i = 500
	}
}

// outputClasses are client-output-buffer-limit's classes, in the order
// Redis prints them; "replica" is read as "slave".
var outputClasses = []string{"normal", "slave", "pubsub"}

// checkOutputBufferLimit mirrors setConfigClientOutputBufferLimitOption:
// groups of "<class> <hard> <soft> <soft_seconds>", each number a memory
// value (soft_seconds too, as in Redis), checked all before any is applied.
func checkOutputBufferLimit(v *value) string {
	if len(v.l)%4 != 0 {
		return "Wrong number of arguments in buffer limit configuration."
	}
	for i, a := range v.l {
		if i%4 == 0 {
			if outputClass(a) < 0 {
				return "Invalid client class specified in buffer limit configuration."
			}
			continue
		}
		if _, st := parseSize(a); st != sizeOK {
			return "Error in hard, soft or soft_seconds setting in buffer limit configuration."
		}
	}
	return ""
}

// outputClass returns the index of a class name in outputClasses, or -1.
func outputClass(name string) int {
	switch strings.ToLower(name) {
	case "normal":
		return 0
	case "slave", "replica":
		return 1
	case "pubsub":
		return 2
	}
	return -1
}

// normalizeOutputBufferLimit rewrites the groups with canonical class names
// and plain byte counts.
func normalizeOutputBufferLimit(v *value) {
	l := make([]string, len(v.l))
	for i, a := range v.l {
		if i%4 == 0 {
			l[i] = outputClasses[outputClass(a)]
			continue
		}
		n, _ := parseSize(a)
		l[i] = strconv.FormatInt(n, 10)
	}
	v.l = l
}

// mergeOutputBufferLimit applies the named classes on top of the current
// limits, so that the stored value always lists all three classes.
func mergeOutputBufferLimit(old value, v *value) {
	merged := append([]string(nil), old.l...)
	if len(merged) != 4*len(outputClasses) {
		merged = append([]string(nil), defaults[byName["client-output-buffer-limit"].idx].l...)
	}
	for i := 0; i+3 < len(v.l); i += 4 {
		j := 4 * outputClass(v.l[i])
		copy(merged[j:j+4], v.l[i:i+4])
	}
	v.l = merged
}

// checkHTTPClients wants "id secret" pairs, each secret at least 16 bytes.
func checkHTTPClients(v *value) string {
	if len(v.l)%2 != 0 {
		return "http-client needs pairs of client id and secret"
	}
	for i := 1; i < len(v.l); i += 2 {
		if len(v.l[i]) < 16 {
			return "http-client secrets must be at least 16 bytes"
		}
	}
	return ""
}
