package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeConf writes a configuration file in a temporary directory.
func writeConf(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sessdb.conf")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// Ensure that the defaults are the documented ones and CONFIG GET formats them like Redis.
func TestConfig_Defaults(t *testing.T) {
	c := Default()
	want := map[string]string{
		"port": "6379", "bind": "127.0.0.1 -::1", "dir": ".", "dbfilename": "sessdb.db",
		"appendfsync": "always", "appendonly": "yes", "requirepass": "", "databases": "16",
		"maxclients": "10000", "timeout": "0", "proto-max-bulk-len": "536870912",
		"client-query-buffer-limit": "1073741824", "loglevel": "notice", "logfile": "",
		"multi-max-queued-bytes": "134217728", "client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		"daemonize": "no", "protected-mode": "yes", "tcp-keepalive": "300", "maxmemory": "0",
		"maxmemory-policy": "noeviction", "notify-keyspace-events": "", "hz": "10",
		"session-idle-timeout": "1800", "session-absolute-timeout": "43200",
		"session-max-per-user": "0", "session-limit-policy": "evict-oldest", "save": "",
		"lua-time-limit": "5000", "busy-reply-threshold": "5000",
		"slowlog-log-slower-than": "10000", "slowlog-max-len": "128",
		"latency-monitor-threshold": "0", "tls-port": "0", "http-port": "0", "admin-enable": "no",
		"http-bind": "127.0.0.1", "http-client": "", "jwt-alg": "EdDSA", "jwt-audience": "", "jwt-default-ttl": "300",
		"jwt-issuer": "sessdb", "jwt-key-passphrase": "", "jwt-max-ttl": "3600",
		"tls-cert-file": "", "tls-key-file": "", "tls-ca-cert-file": "", "tls-auth-clients": "yes",
		"tls-protocols": "", "aclfile": "",
		"hash-max-listpack-entries": "128", "hash-max-ziplist-entries": "128",
		"hash-max-listpack-value": "64", "hash-max-ziplist-value": "64",
		"set-max-intset-entries": "512", "set-max-listpack-entries": "128",
		"set-max-listpack-value": "64", "zset-max-listpack-entries": "128",
		"zset-max-listpack-value": "64", "zset-max-ziplist-entries": "128",
		"zset-max-ziplist-value": "64", "list-max-listpack-size": "-2",
		"list-max-ziplist-size": "-2", "list-compress-depth": "0", "activerehashing": "yes",
		"lazyfree-lazy-eviction": "no", "lazyfree-lazy-expire": "no",
		"lazyfree-lazy-server-del": "no", "lazyfree-lazy-user-del": "no",
		"lazyfree-lazy-user-flush": "no", "active-expire-effort": "1",
		"stream-node-max-bytes": "4096", "stream-node-max-entries": "100",
		"lfu-log-factor": "10", "lfu-decay-time": "1", "maxmemory-samples": "5",
		"appendfilename": "appendonly.aof", "appenddirname": "appendonlydir",
		"no-appendfsync-on-rewrite": "no", "auto-aof-rewrite-percentage": "100",
		"auto-aof-rewrite-min-size": "67108864", "aof-use-rdb-preamble": "yes",
		"rdbcompression": "yes", "rdbchecksum": "yes", "stop-writes-on-bgsave-error": "yes",
		"replica-read-only": "yes", "slave-read-only": "yes", "repl-diskless-sync": "yes",
		"latency-tracking": "yes", "enable-debug-command": "no", "close-on-oom": "no",
		"io-threads": "1", "tracking-table-max-keys": "1000000",
		"min-replicas-to-write": "0", "min-slaves-to-write": "0",
		"min-replicas-max-lag": "10", "min-slaves-max-lag": "10",
	}
	got := map[string]string{}
	for _, kv := range c.Get("*") {
		got[kv[0]] = kv[1]
	}
	require.Equal(t, want, got)

	require.Equal(t, 6379, c.Port())
	require.Equal(t, []string{"127.0.0.1", "-::1"}, c.Bind())
	require.Equal(t, ".", c.Dir())
	require.Equal(t, "sessdb.db", c.DBFilename())
	require.Equal(t, "always", c.AppendFsync())
	require.Equal(t, "", c.RequirePass())
	require.Equal(t, 16, c.Databases())
	require.Equal(t, 10000, c.MaxClients())
	require.Equal(t, time.Duration(0), c.Timeout())
	require.Equal(t, int64(512<<20), c.ProtoMaxBulkLen())
	require.Equal(t, int64(1<<30), c.ClientQueryBufferLimit())
	require.Equal(t, "notice", c.LogLevel())
	require.Equal(t, "", c.LogFile())
	require.Equal(t, 30*time.Minute, c.SessionIdleTimeout())
	require.Equal(t, 12*time.Hour, c.SessionAbsoluteTimeout())
	require.Equal(t, 0, c.SessionMaxPerUser())
	require.Equal(t, "evict-oldest", c.SessionLimitPolicy())
	require.Equal(t, "", c.NotifyKeyspaceEvents())
	require.Equal(t, int64(0), c.MaxMemory())
	require.Equal(t, "noeviction", c.MaxMemoryPolicy())
	require.Equal(t, 10, c.Hz())
	require.Equal(t, 5*time.Second, c.BusyReplyThreshold())
	require.Equal(t, 300*time.Second, c.TCPKeepAlive())
	require.True(t, c.ProtectedMode())
	require.Nil(t, c.Save())
	require.Equal(t, 0, c.TLSPort())
	require.Equal(t, 0, c.HTTPPort())
	require.Equal(t, "appendonly.aof", c.AppendFilename())
	require.Equal(t, "appendonlydir", c.AppendDirname())
	require.Equal(t, int64(10000), c.SlowlogLogSlowerThan())
	require.Equal(t, 128, c.SlowlogMaxLen())
	require.Equal(t, time.Duration(0), c.LatencyMonitorThreshold())
	require.Equal(t, KeyspaceEvents(0), c.KeyspaceEvents())
}

// Ensure that a redis.conf-style file is parsed: comments, blank lines, quotes, escapes, case-insensitive names.
func TestConfig_ParseFile(t *testing.T) {
	body := strings.Join([]string{
		"# sessdb configuration",
		"",
		"   # indented comment",
		"PORT 7000",
		"bind 10.0.0.1   ::1\r",
		`requirepass "p@ss word\twith \"quotes\" \x41"`,
		`logfile '/var/log/it''s.log'`,
		"\tMaxMemory 2GB  ",
		"maxmemory-policy ALLKEYS-LRU",
		"activerehashing NO",
		`notify-keyspace-events "KEA"`,
		"save 900 1",
		"save 300 10",
		`dir "/data"`,
		"hash-max-ziplist-entries 7",
		"lua-time-limit 100",
		"session-idle-timeout 60",
		"session-limit-policy refuse",
		"timeout 30",
		`dbfilename 'a\'b.db'`,
	}, "\n")
	_, err := Parse(body)
	// 'it''s' is not valid sdssplitargs syntax: closing quote followed by a quote.
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, 7, fe.Line)
	require.Equal(t, "Unbalanced quotes in configuration line", fe.Reason)

	body = strings.Replace(body, `'/var/log/it''s.log'`, `'/var/log/it\'s.log'`, 1)
	c, err := Parse(body)
	require.NoError(t, err)
	require.Equal(t, 7000, c.Port())
	require.Equal(t, []string{"10.0.0.1", "::1"}, c.Bind())
	require.Equal(t, "p@ss word\twith \"quotes\" A", c.RequirePass())
	require.Equal(t, "/var/log/it's.log", c.LogFile())
	require.Equal(t, int64(2<<30), c.MaxMemory())
	require.Equal(t, "allkeys-lru", c.MaxMemoryPolicy())
	require.Equal(t, "AKE", c.NotifyKeyspaceEvents())
	require.Equal(t, [][2]int64{{900, 1}, {300, 10}}, c.Save())
	require.Equal(t, "/data", c.Dir())
	require.Equal(t, 30*time.Second, c.Timeout())
	require.Equal(t, time.Minute, c.SessionIdleTimeout())
	require.Equal(t, "refuse", c.SessionLimitPolicy())
	require.Equal(t, 100*time.Millisecond, c.BusyReplyThreshold())
	require.Equal(t, "a'b.db", c.DBFilename())
	require.Equal(t, [][2]string{
		{"activerehashing", "no"},
		{"hash-max-listpack-entries", "7"},
		{"save", "900 1 300 10"},
	}, c.GetMany("activerehashing", "hash-max-listpack-entries", "save"))
}

// Ensure that save lines accumulate like Redis and save "" resets them.
func TestConfig_SaveLines(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{"save 900 1\nsave 300 10", "900 1 300 10"},
		{"save 900 1\nsave \"\"", ""},
		{"save 900 1\nsave \"\"\nsave 60 5", "60 5"},
		{"save \"3600 1 300 100\"", "3600 1 300 100"},
		{"save +5 007", "5 7"},
	} {
		c, err := Parse(tc.body)
		require.NoError(t, err, tc.body)
		v, ok := c.Value("save")
		require.True(t, ok)
		require.Equal(t, tc.want, v, tc.body)
	}
}

// Ensure that command-line options override the file, like redis-server.
func TestConfig_CLIOverridesFile(t *testing.T) {
	p := writeConf(t, "port 7000\nbind 10.0.0.1\nmaxmemory 1mb\nrequirepass filepass\n")
	c, err := Load([]string{p, "--port", "7001", "--bind", "127.0.0.1", "::1", "--requirepass", "with space", "--maxmemory-policy", "allkeys-lfu"})
	require.NoError(t, err)
	require.Equal(t, 7001, c.Port())
	require.Equal(t, []string{"127.0.0.1", "::1"}, c.Bind())
	require.Equal(t, "with space", c.RequirePass())
	require.Equal(t, int64(1<<20), c.MaxMemory(), "from the file")
	require.Equal(t, "allkeys-lfu", c.MaxMemoryPolicy())

	// Without a file, and redis-server's special forms.
	for _, tc := range []struct {
		name string
		args []string
		get  string
		want string
	}{
		{"no file", []string{"--port", "6380"}, "port", "6380"},
		{"name and value in one arg", []string{"--port 6381"}, "port", "6381"},
		{"multi-arg bind in one value", []string{"--bind", "1.1.1.1 2.2.2.2"}, "bind", "1.1.1.1 2.2.2.2"},
		{"trailing --save", []string{"--port", "1", "--save"}, "save", ""},
		{"--save followed by option", []string{"--save", "--port", "2"}, "port", "2"},
		{"--save pairs", []string{"--save", "60", "1", "10", "100"}, "save", "60 1 10 100"},
		{"value starting with --", []string{"--requirepass", "--x"}, "requirepass", "--x"},
		{"quoted and escaped", []string{"--requirepass", "a\"b\\c\n\x01é"}, "requirepass", "a\"b\\c\n\x01é"},
		{"case-insensitive name", []string{"--MaxMemory", "3kb"}, "maxmemory", "3072"},
		{"later wins", []string{"--hz", "20", "--hz", "30"}, "hz", "30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.args)
			require.NoError(t, err)
			v, ok := c.Value(tc.get)
			require.True(t, ok)
			require.Equal(t, tc.want, v)
		})
	}

	c, err = Load(nil)
	require.NoError(t, err)
	require.Equal(t, Default().Get("*"), c.Get("*"))
}

// Ensure that an unknown directive fails with Redis's report naming it and its line.
func TestConfig_UnknownDirective(t *testing.T) {
	_, err := Parse("# comment\nfoo bar\n")
	require.EqualError(t, err, "*** FATAL CONFIG FILE ERROR (sessdb) ***\n"+
		"Reading the configuration file, at line 2\n"+
		">>> 'foo bar'\n"+
		"Bad directive or wrong number of arguments")
	var fe *FileError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, &FileError{Line: 2, Text: "foo bar", Reason: "Bad directive or wrong number of arguments"}, fe)

	// Command-line options are numbered after the file and a separating
	// newline, as in redis-server (checked against redis-server 7.0.15).
	p := writeConf(t, "port 7393\n# x\n\nhz 10\n")
	for _, tc := range []struct {
		args []string
		line int
		text string
	}{
		{[]string{p, "--hz", "5", "--foo", "bar"}, 7, `foo "bar"`},
		{[]string{"--hz", "5", "--foo", "bar"}, 3, `foo "bar"`},
		{[]string{"--save", "--foo"}, 3, `foo`},
		{[]string{"--maxmemory", "--hz", "5"}, 2, `maxmemory "--hz" "5"`},
		{[]string{"x1.conf.missing"}, 0, ""},
	} {
		_, err := Load(tc.args)
		require.Error(t, err)
		if tc.line == 0 {
			require.Contains(t, err.Error(), "Fatal error, can't open config file 'x1.conf.missing'")
			continue
		}
		require.ErrorAs(t, err, &fe, tc.args)
		require.Equal(t, tc.line, fe.Line, tc.args)
		require.Equal(t, tc.text, fe.Text, tc.args)
		require.Contains(t, err.Error(), fmt.Sprintf("at line %d\n>>> '%s'\n", tc.line, tc.text))
	}

	_, err = Load([]string{"-"})
	require.Error(t, err)
}

// Ensure that bad values in the file are rejected with Redis's reasons.
func TestConfig_BadFileValues(t *testing.T) {
	for _, tc := range []struct{ line, reason string }{
		{"port abc", "argument couldn't be parsed into an integer"},
		{"port 1 2", "wrong number of arguments"},
		{"port", "wrong number of arguments"},
		{"port 70000", "argument must be between 0 and 65535 inclusive"},
		{"databases 0", "argument must be between 1 and 2147483647 inclusive"},
		{"maxmemory abc", "argument must be a memory value"},
		{"proto-max-bulk-len 1k", "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"appendfsync maybe", "argument(s) must be one of the following: always, everysec"},
		{"appendfsync no", "appendfsync no is not supported: sessdb always fsyncs its log (use always or everysec)"},
		{"appendonly no", "appendonly no is not supported: sessdb always keeps its append-only log"},
		{"daemonize yes", "daemonize yes is not supported: run sessdb in the foreground under a supervisor"},
		{"daemonize maybe", "argument must be 'yes' or 'no'"},
		{"notify-keyspace-events Q", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{`bind "127.0.0.1`, "Unbalanced quotes in configuration line"},
		{"bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."},
		{"save 1", "Invalid save parameters"},
		{"save 0 1", "Invalid save parameters"},
		{"dbfilename a/b", "dbfilename can't be a path, just a filename"},
		{"appendfilename a/b", "appendfilename can't be a path, just a filename"},
		{"appenddirname a/b", "appenddirname can't be a path, just a dirname"},
		{`dbfilename a\\b`, "dbfilename can't be a path, just a filename"},
		{`appendfilename ""`, "appendfilename can't be empty"},
		{`appenddirname ""`, "appenddirname can't be empty"},
		{`dbfilename ""`, "dbfilename can't be empty"},
		{`dir ""`, "dir can't be empty"},
		{"enable-debug-command x", "argument(s) must be one of the following: no, yes, local"},
		{"loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"},
		{"include other.conf", "Bad directive or wrong number of arguments"},
	} {
		_, err := Parse(tc.line)
		var fe *FileError
		require.ErrorAs(t, err, &fe, tc.line)
		require.Equal(t, FileError{Line: 1, Text: tc.line, Reason: tc.reason}, *fe)
	}
}

// Ensure that memory sizes follow Redis's memtoull units.
func TestConfig_ParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"100", 100, true}, {"5b", 5, true}, {"5B", 5, true},
		{"1k", 1000, true}, {"1kb", 1024, true}, {"1K", 1000, true}, {"5KB", 5120, true},
		{"1m", 1000000, true}, {"1mb", 1 << 20, true}, {"1g", 1000000000, true},
		{"1gb", 1 << 30, true}, {"1gB", 1 << 30, true}, {"512mb", 536870912, true},
		{"05", 5, true}, {"", 0, true}, {"k", 0, true},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false}, {"99999999999gb", 0, false},
		{"-1", 0, false}, {"+5", 0, false}, {" 5", 0, false}, {"5 ", 0, false},
		{"1.5gb", 0, false}, {"12x", 0, false}, {"1tb", 0, false}, {"abc", 0, false},
	} {
		got, err := ParseSize(tc.in)
		_, st := parseSize(tc.in)
		require.Equal(t, tc.ok, st == sizeOK, tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

// Ensure that SplitArgs behaves like Redis's sdssplitargs.
func TestConfig_SplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"  \t ", []string{}},
		{"a b  c", []string{"a", "b", "c"}},
		{`"a b" c`, []string{"a b", "c"}},
		{`"\x41\x4a\n\r\t\b\a\"\\\q"`, []string{"AJ\n\r\t\b\a\"\\q"}},
		{`"\x4g"`, []string{"x4g"}},
		{`'it\'s' '\n'`, []string{"it's", `\n`}},
		{`ab"cd ef"gh`, nil},
		{`ab"cd ef" gh`, []string{"abcd ef", "gh"}},
		{`""`, []string{""}},
		{`"unterminated`, nil},
		{`'unterminated`, nil},
		{`"a"b`, nil},
		{"a\x00b c", []string{"a"}},
		{"a\vb", []string{"a\vb"}},
	} {
		got, err := SplitArgs(tc.in)
		if tc.want == nil {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	// quoteRepr round-trips through SplitArgs.
	for _, s := range []string{"", "plain", "a b", `q"\`, "\x00\x01\xff\n\r\t\a\b é"} {
		got, err := SplitArgs(quoteRepr(s))
		require.NoError(t, err)
		require.Equal(t, []string{s}, got)
	}
}

// Ensure that CONFIG GET matches Redis globs case-insensitively, sorts, dedups and formats values.
func TestConfig_Get(t *testing.T) {
	c := Default()
	require.NoError(t, c.Set("maxmemory", "1gb"))
	require.Equal(t, [][2]string{
		{"maxmemory", "1073741824"},
		{"maxmemory-policy", "noeviction"},
		{"maxmemory-samples", "5"},
	}, c.Get("maxmemory*"))
	require.Equal(t, [][2]string{
		{"hash-max-listpack-entries", "128"},
		{"hash-max-listpack-value", "64"},
		{"hash-max-ziplist-entries", "128"},
		{"hash-max-ziplist-value", "64"},
	}, c.Get("HASH-*"))
	require.Equal(t, [][2]string{{"port", "6379"}}, c.Get("port"))
	require.Equal(t, [][2]string{{"PORT", "6379"}}, c.Get("PORT"), "a plain name is echoed as given, like Redis")
	require.Equal(t, [][2]string{{"lua-time-limit", "5000"}}, c.Get("lua-time-limit"))
	require.Empty(t, c.Get("nosuch"))
	require.Empty(t, c.Get("nosuch*"))
	require.Equal(t, [][2]string{{"bind", "127.0.0.1 -::1"}, {"port", "6379"}}, c.GetMany("port", "bind", "p?rt", "PORT", "[b]ind"))
	require.Equal(t, [][2]string{{"dir", "."}}, c.Get("d[^b]r"))
	require.Equal(t, [][2]string{{"tls-port", "0"}}, c.Get("t[k-m]s-port"))
	require.Equal(t, [][2]string{{"appendonly", "yes"}, {"daemonize", "no"}}, c.GetMany("appendonly", "daemonize"))

	all := c.Get("*")
	require.Len(t, all, len(directives)+9, "every name and alias")
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1][0], all[i][0])
	}
}

// Ensure that the glob matcher behaves like Redis's stringmatchlen.
func TestConfig_GlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", false} /* as in Redis: nothing matches "" */, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "ac", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"[abc]", "b", true}, {"[abc]", "d", false}, {"[^abc]", "d", true}, {"[^abc]", "a", false},
		{"[a-c]x", "bx", true}, {"[c-a]x", "bx", true}, {"a\\*", "a*", true}, {"a\\*", "ab", false},
		{"[\\]]", "]", true}, {"ABC", "abc", true}, {"[A-C]", "b", true}, {"abc", "abcd", false},
		{"abc*", "abc", true}, {"[abc", "a", true}, {"a**b", "ab", true},
		{strings.Repeat("*", 50) + "x", strings.Repeat("a", 50), false},
		{strings.Repeat("a*", 30) + "b", strings.Repeat("a", 60), false},
	} {
		require.Equal(t, tc.want, globMatch(tc.pat, tc.s, true), "%q vs %q", tc.pat, tc.s)
	}
	require.False(t, globMatch("ABC", "abc", false))
}

// Ensure that CONFIG SET errors carry Redis 7's exact text.
func TestConfig_SetErrors(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"foo", "bar", "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{"databases", "3", "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		{"maxclients", "abc", "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"},
		{"maxclients", "99999999999999999999", "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"},
		{"maxclients", "0", "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"},
		{"hz", "01", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{"hz", "+1", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{"hz", "-0", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{"hz", "", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{"hz", "-1", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive"},
		{"timeout", "1k", "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"},
		{"maxmemory", "abc", "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{"maxmemory", "-1", "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{"maxmemory", "1.5gb", "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{"maxmemory", "9223372036854775808", "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be between 0 and 9223372036854775807 inclusive"},
		{"stream-node-max-bytes", "9999999999gb", "ERR CONFIG SET failed (possibly related to argument 'stream-node-max-bytes') - argument must be between 0 and 9223372036854775807 inclusive"},
		{"proto-max-bulk-len", "10", "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"maxmemory-policy", "x", "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{"activerehashing", "maybe", "ERR CONFIG SET failed (possibly related to argument 'activerehashing') - argument must be 'yes' or 'no'"},
		{"appendfsync", "x", "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: always, everysec"},
		{"appendfsync", "NO", "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - appendfsync no is not supported: sessdb always fsyncs its log (use always or everysec)"},
		{"notify-keyspace-events", "Q", "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{"slowlog-log-slower-than", "-2", "ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1 and 9223372036854775807 inclusive"},
		{"active-expire-effort", "11", "ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be between 1 and 10 inclusive"},
		{"save", "abc", "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"},
		{"save", "900  1", "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"},
		{"MaxClients", "x", "ERR CONFIG SET failed (possibly related to argument 'MaxClients') - argument couldn't be parsed into an integer"},
	} {
		c := Default()
		before := c.Get("*")
		err := c.Set(tc.name, tc.value)
		require.EqualError(t, err, tc.want, "%s %q", tc.name, tc.value)
		var se *SetError
		require.ErrorAs(t, err, &se)
		require.Equal(t, tc.name, se.Name)
		require.Equal(t, before, c.Get("*"), "a failed set changes nothing")
	}
	require.EqualError(t, Default().SetMany(nil), "ERR wrong number of arguments for 'config|set' command")
}

// Ensure that immutable directives refuse CONFIG SET and keep their value.
func TestConfig_SetImmutable(t *testing.T) {
	c := Default()
	for _, name := range []string{"port", "bind", "dir", "dbfilename", "databases", "daemonize",
		"tls-port", "http-port", "admin-enable", "logfile", "appendfilename", "appenddirname", "rdbchecksum",
		"enable-debug-command", "io-threads"} {
		v, _ := c.Value(name)
		err := c.Set(name, v)
		require.EqualError(t, err, "ERR CONFIG SET failed (possibly related to argument '"+name+"') - can't set immutable config")
		var se *SetError
		require.ErrorAs(t, err, &se)
		require.True(t, se.Immutable())
	}
	// Everything else is mutable: setting the current value back succeeds.
	for _, kv := range c.Get("*") {
		if s := lookup(kv[0]); !s.immutable {
			require.NoError(t, c.Set(kv[0], kv[1]), kv[0])
		}
	}
	require.Equal(t, Default().Get("*"), c.Get("*"))
}

// Ensure that CONFIG SET parses, normalizes and stores values like Redis.
func TestConfig_SetValues(t *testing.T) {
	for _, tc := range []struct{ name, value, get string }{
		{"maxmemory", "1K", "1000"},
		{"maxmemory", "5KB", "5120"},
		{"maxmemory", "", "0"},
		{"maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru"},
		{"activerehashing", "NO", "no"},
		{"hz", "1000", "500"},
		{"hz", "0", "1"},
		{"notify-keyspace-events", "KEA", "AKE"},
		{"notify-keyspace-events", "Ex", "xE"},
		{"notify-keyspace-events", "EKgx", "gxKE"},
		{"notify-keyspace-events", "g$lshzxetmd", "Am"},
		{"notify-keyspace-events", "Knm", "nKm"},
		{"notify-keyspace-events", "An", "A"},
		{"save", "900 1 300 10", "900 1 300 10"},
		{"save", "", ""},
		{"list-max-ziplist-size", "0", "0"},
		{"requirepass", "s3cret", "s3cret"},
		{"appendfsync", "EverySec", "everysec"},
		{"appendonly", "yes", "yes"},
		{"slowlog-log-slower-than", "-1", "-1"},
	} {
		c := Default()
		require.NoError(t, c.Set(tc.name, tc.value), "%s %q", tc.name, tc.value)
		require.Equal(t, [][2]string{{tc.name, tc.get}}, c.Get(tc.name), "%s %q", tc.name, tc.value)
	}

	c := Default()
	require.NoError(t, c.Set("lua-time-limit", "250"))
	require.Equal(t, 250*time.Millisecond, c.BusyReplyThreshold())
	require.NoError(t, c.Set("notify-keyspace-events", "An"))
	require.True(t, c.KeyspaceEvents().Has(EventAll|EventNew), "flags keep 'n' even if hidden")
	require.False(t, c.KeyspaceEvents().Has(EventKeyspace))
	require.NoError(t, c.Set("timeout", "90"))
	require.Equal(t, 90*time.Second, c.Timeout())
	require.NoError(t, c.Set("session-max-per-user", "3"))
	require.Equal(t, 3, c.SessionMaxPerUser())
	require.NoError(t, c.Set("client-query-buffer-limit", "2mb"))
	require.Equal(t, int64(2<<20), c.ClientQueryBufferLimit())
}

// Ensure that SetMany is all-or-nothing and reports errors in Redis's order.
func TestConfig_SetManyAtomic(t *testing.T) {
	c := Default()
	require.NoError(t, c.SetMany([][2]string{{"maxmemory", "10mb"}, {"hz", "20"}, {"requirepass", "x"}}))
	require.Equal(t, int64(10<<20), c.MaxMemory())
	require.Equal(t, 20, c.Hz())
	require.Equal(t, "x", c.RequirePass())

	before := c.Get("*")
	for _, tc := range []struct {
		pairs [][2]string
		want  string
	}{
		{[][2]string{{"maxmemory", "100"}, {"hz", "abc"}}, "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{[][2]string{{"maxmemory", "1"}, {"MAXMEMORY", "2"}}, "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"},
		{[][2]string{{"hz", "abc"}, {"nosuch", "1"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"},
		{[][2]string{{"nosuch", "1"}, {"port", "1"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"},
		{[][2]string{{"port", "1"}, {"nosuch", "1"}}, "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"},
		{[][2]string{{"requirepass", "y"}, {"databases", "1"}}, "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
	} {
		require.EqualError(t, c.SetMany(tc.pairs), tc.want)
		require.Equal(t, before, c.Get("*"))
	}

	// An alias and its canonical name may both appear (Redis 7.0 accepts it);
	// the last one wins.
	require.NoError(t, c.SetMany([][2]string{{"hash-max-ziplist-entries", "1"}, {"hash-max-listpack-entries", "2"}}))
	v, _ := c.Value("hash-max-ziplist-entries")
	require.Equal(t, "2", v)
}

// Ensure that OnChange callbacks run after successful sets only, with canonical names.
func TestConfig_OnChange(t *testing.T) {
	c := Default()
	var mu sync.Mutex
	var got []string
	c.OnChange(func(name string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, name)
		if name == "requirepass" {
			require.Equal(t, "pw", c.RequirePass(), "the new value is visible to the callback")
		}
	})
	calls := 0
	c.OnChange(func(string) { calls++ })

	require.NoError(t, c.Set("requirepass", "pw"))
	require.Error(t, c.Set("hz", "x"))
	require.Error(t, c.Set("port", "1"))
	require.Error(t, c.SetMany([][2]string{{"maxmemory", "1"}, {"hz", "x"}}))
	require.NoError(t, c.SetMany([][2]string{{"lua-time-limit", "1"}, {"maxmemory", "1"}, {"busy-reply-threshold", "2"}}))
	require.Equal(t, []string{"requirepass", "busy-reply-threshold", "maxmemory"}, got)
	require.Equal(t, 3, calls)
}

// Ensure that concurrent CONFIG SET, CONFIG GET and getters are race-free.
func TestConfig_Concurrent(t *testing.T) {
	c := Default()
	c.OnChange(func(string) { _ = c.MaxMemory() })
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if i%2 == 0 {
					_ = c.SetMany([][2]string{{"maxmemory", fmt.Sprint(j)}, {"hz", fmt.Sprint(j%500 + 1)}})
				} else {
					_ = c.Get("*")
					_ = c.MaxMemory() + int64(c.Hz()+c.Port())
					_ = c.Bind()
				}
			}
		}(i)
	}
	wg.Wait()
}

// Ensure that every table default is valid and every name resolves.
func TestConfig_Table(t *testing.T) {
	for _, s := range directives {
		v, reason := s.parseSetValue(s.def)
		require.Empty(t, reason, s.name)
		require.Equal(t, s.format(v), s.format(defaults[s.idx]), s.name)
		for _, n := range append([]string{s.name}, s.aliases...) {
			require.Same(t, s, lookup(strings.ToUpper(n)))
		}
	}
}

// Ensure that parsing any configuration body never panics and only fails with a *FileError.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("port 6380\nbind 127.0.0.1 ::1\n# comment\n"))
	f.Add([]byte("requirepass \"a\\x41\\n\"\nsave 900 1\nsave 300 10\n"))
	f.Add([]byte("maxmemory 1gb\nnotify-keyspace-events KEA\nhz 1000\n"))
	f.Add([]byte("foo 'bar\n"))
	f.Add([]byte("bind \"\"\nsave \"\"\ndir \x00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(string(data))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		// A successfully parsed configuration can be read back and every
		// CONFIG GET value can be set again (mutable ones), except values
		// that only the file syntax can express (spaces inside bind/save).
		for _, kv := range c.Get("*") {
			s := lookup(kv[0])
			if s.immutable || s.kind == kindStrings {
				continue
			}
			if err := c.Set(kv[0], kv[1]); err != nil {
				t.Fatalf("CONFIG SET %s %q after load: %v", kv[0], kv[1], err)
			}
		}
	})
}

// Ensure that admin-enable is off by default, takes yes/no, and cannot change at run time.
func TestConfig_AdminEnable(t *testing.T) {
	require.False(t, Default().AdminEnable())
	c, err := Load([]string{"--admin-enable", "yes"})
	require.NoError(t, err)
	require.True(t, c.AdminEnable())
	_, err = Load([]string{"--admin-enable", "maybe"})
	require.Error(t, err)
	require.Error(t, c.Set("admin-enable", "no"))
}
