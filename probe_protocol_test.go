package sessdb_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// The probe protocol test sends the small commands clients and tools probe
// (CLIENT NO-EVICT / TRACKING / …, WAIT, LATENCY, SLOWLOG, MEMORY, DEBUG,
// OBJECT) to an in-process sessdb and, when it is installed, to a real
// redis-server, over RESP2 and RESP3. Deterministic replies are compared
// byte for byte, the rest by shape. Its helpers are prefixed probe so that
// the file stands on its own.

const probeNoRedis = "redis-server not on PATH: install Debian redis-server to prove the probe-command expectations against real Redis"

// probeStep is one command and its raw reply in RESP2 and (when different)
// RESP3, or a regexp its reply must match.
type probeStep struct {
	cmd   string
	want  string
	want3 string
	shape string // regexp, used instead of want
}

// probeCase is a script run on an empty database. sessdbOnly, when set,
// says why Redis answers differently, and the case is not sent to Redis.
type probeCase struct {
	name       string
	sessdbOnly string
	steps      []probeStep
}

func probeStartSessdb(t *testing.T, dir string) string {
	t.Helper()
	cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir})
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), &sessdb.Options{Databases: cfg.Databases()})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.NoError(t, <-done)
		require.NoError(t, db.Close())
	})
	return srv.Addr().String()
}

// probeStartRedis runs redis-server without persistence, with DEBUG enabled
// (Redis 7 refuses it by default), on a free port, or skips the test.
func probeStartRedis(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip(probeNoRedis)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	var out strings.Builder
	cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--enable-debug-command", "yes")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}, 5*time.Second, 10*time.Millisecond, "redis-server did not start: %s", &out)
	return addr
}

type probeConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func probeDial(t *testing.T, addr string, proto int) *probeConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	c := &probeConn{conn: conn, r: bufio.NewReader(conn)}
	if proto == 3 {
		require.True(t, strings.HasPrefix(c.do(t, "HELLO", "3"), "%"))
	}
	return c
}

func (c *probeConn) do(t *testing.T, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	require.NoError(t, c.conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := io.WriteString(c.conn, b.String())
	require.NoError(t, err)
	var reply strings.Builder
	require.NoError(t, probeReadReply(c.r, &reply), "reply to %q so far: %q", args, reply.String())
	return reply.String()
}

// probeReadReply copies one RESP2 or RESP3 reply from r to out.
func probeReadReply(r *bufio.Reader, out *strings.Builder) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return fmt.Errorf("malformed line %q", line)
	}
	n, _ := strconv.Atoi(line[1 : len(line)-2])
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		out.Write(buf)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := probeReadReply(r, out); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := probeReadReply(r, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// probeRun runs every case on addr over RESP2 and RESP3.
func probeRun(t *testing.T, addr string, isRedis bool, cases []probeCase) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			c := probeDial(t, addr, proto)
			for _, tc := range cases {
				if isRedis && tc.sessdbOnly != "" {
					t.Logf("%s: not checked against Redis: %s", tc.name, tc.sessdbOnly)
					continue
				}
				require.Equal(t, "+OK\r\n", c.do(t, "FLUSHALL"))
				for _, s := range tc.steps {
					got := c.do(t, strings.Fields(s.cmd)...)
					if s.shape != "" {
						require.Regexp(t, regexp.MustCompile(s.shape), got, "%s: %q over RESP%d", tc.name, s.cmd, proto)
						continue
					}
					want := s.want
					if proto == 3 && s.want3 != "" {
						want = s.want3
					}
					require.Equal(t, want, got, "%s: %q over RESP%d", tc.name, s.cmd, proto)
				}
			}
		})
	}
}

const (
	probeLatencyDoctor = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	probeDebugObject   = `^\+Value at:0x[0-9a-f]+ refcount:%s encoding:%s serializedlength:%d lru:\d+ lru_seconds_idle:\d+\r\n$`
)

func probeBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func probeVerbatim(s string) string {
	return "=" + strconv.Itoa(len(s)+4) + "\r\ntxt:" + s + "\r\n"
}

// probeCases were recorded from redis-server 7.0.15 (started with
// --enable-debug-command yes); TestProbeProtocol_Replies re-proves them.
var probeCases = []probeCase{
	{name: "client no-evict and tracking off", steps: []probeStep{
		{cmd: "CLIENT NO-EVICT on", want: "+OK\r\n"},
		{cmd: "CLIENT NO-EVICT OFF", want: "+OK\r\n"},
		{cmd: "CLIENT NO-EVICT maybe", want: "-ERR syntax error\r\n"},
		{cmd: "CLIENT NO-EVICT", want: "-ERR wrong number of arguments for 'client|no-evict' command\r\n"},
		{cmd: "CLIENT NO-EVICT on x", want: "-ERR wrong number of arguments for 'client|no-evict' command\r\n"},
		{cmd: "CLIENT TRACKING off", want: "+OK\r\n"},
		{cmd: "CLIENT TRACKING", want: "-ERR wrong number of arguments for 'client|tracking' command\r\n"},
		{cmd: "CLIENT TRACKING bad", want: "-ERR syntax error\r\n"},
	}},
	{name: "wait", steps: []probeStep{
		{cmd: "SET k v", want: "+OK\r\n"},
		{cmd: "WAIT 0 0", want: ":0\r\n"},
		{cmd: "WAIT 1 10", want: ":0\r\n"},
		{cmd: "WAIT -1 0", want: ":0\r\n"},
		{cmd: "WAIT x 0", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "WAIT 0 x", want: "-ERR timeout is not an integer or out of range\r\n"},
		{cmd: "WAIT 0 99999999999999999999", want: "-ERR timeout is not an integer or out of range\r\n"},
		{cmd: "WAIT 0 -1", want: "-ERR timeout is negative\r\n"},
		{cmd: "WAIT 0", want: "-ERR wrong number of arguments for 'wait' command\r\n"},
		{cmd: "WAIT 0 0 0", want: "-ERR wrong number of arguments for 'wait' command\r\n"},
	}},
	{name: "latency", steps: []probeStep{
		{cmd: "LATENCY LATEST", want: "*0\r\n"},
		{cmd: "LATENCY HISTORY command", want: "*0\r\n"},
		{cmd: "LATENCY RESET", want: ":0\r\n"},
		{cmd: "LATENCY RESET command fork", want: ":0\r\n"},
		{cmd: "LATENCY GRAPH command", want: "-ERR No samples available for event 'command'\r\n"},
		{cmd: "LATENCY DOCTOR", want: probeBulk(probeLatencyDoctor), want3: probeVerbatim(probeLatencyDoctor)},
		{cmd: "LATENCY HELP", shape: `^\*\d+\r\n\+LATENCY <subcommand> \[<arg> \[value\] \[opt\] \.\.\.\]\. Subcommands are:\r\n(\+[^\r\n]*\r\n)+$`},
		{cmd: "LATENCY", want: "-ERR wrong number of arguments for 'latency' command\r\n"},
		{cmd: "LATENCY HISTORY", want: "-ERR wrong number of arguments for 'latency|history' command\r\n"},
		{cmd: "LATENCY LATEST x", want: "-ERR wrong number of arguments for 'latency|latest' command\r\n"},
		{cmd: "LATENCY DOCTOR x", want: "-ERR wrong number of arguments for 'latency|doctor' command\r\n"},
		{cmd: "LATENCY foo", want: "-ERR unknown subcommand 'foo'. Try LATENCY HELP.\r\n"},
	}},
	{name: "slowlog", steps: []probeStep{
		{cmd: "SLOWLOG RESET", want: "+OK\r\n"}, // Redis logged DEBUG SLEEP 0.01
		{cmd: "SLOWLOG GET", want: "*0\r\n"},
		{cmd: "SLOWLOG GET 5", want: "*0\r\n"},
		{cmd: "SLOWLOG GET -1", want: "*0\r\n"},
		{cmd: "SLOWLOG GET 0", want: "*0\r\n"},
		{cmd: "SLOWLOG GET -2", want: "-ERR count should be greater than or equal to -1\r\n"},
		{cmd: "SLOWLOG GET x", want: "-ERR count should be greater than or equal to -1\r\n"},
		{cmd: "SLOWLOG GET 1 2", want: "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n"},
		{cmd: "SLOWLOG LEN", want: ":0\r\n"},
		{cmd: "SLOWLOG RESET", want: "+OK\r\n"},
		{cmd: "SLOWLOG HELP", want: "*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET [<count>]\r\n+    Return top <count> entries from the slowlog (default: 10, -1 mean all).\r\n+    Entries are made of:\r\n+    id, timestamp, time in microseconds, arguments array, client IP and port,\r\n+    client name\r\n+LEN\r\n+    Return the length of the slowlog.\r\n+RESET\r\n+    Reset the slowlog.\r\n+HELP\r\n+    Prints this help.\r\n"},
		{cmd: "SLOWLOG", want: "-ERR wrong number of arguments for 'slowlog' command\r\n"},
		{cmd: "SLOWLOG LEN x", want: "-ERR wrong number of arguments for 'slowlog|len' command\r\n"},
		{cmd: "SLOWLOG RESET x", want: "-ERR wrong number of arguments for 'slowlog|reset' command\r\n"},
	}},
	{name: "memory usage", steps: []probeStep{
		{cmd: "MEMORY USAGE nokey", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "MEMORY USAGE nokey SAMPLES x", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "SET s hello", want: "+OK\r\n"},
		{cmd: "SET n 123", want: "+OK\r\n"},
		{cmd: "HSET h a b", want: ":1\r\n"},
		{cmd: "SADD set 1 2 3", want: ":3\r\n"},
		{cmd: "ZADD z 1 a 2 b", want: ":2\r\n"},
		{cmd: "MEMORY USAGE s", shape: `^:[1-9]\d*\r\n$`},
		{cmd: "MEMORY USAGE n", shape: `^:[1-9]\d*\r\n$`},
		{cmd: "MEMORY USAGE h", shape: `^:[1-9]\d*\r\n$`},
		{cmd: "MEMORY USAGE set", shape: `^:[1-9]\d*\r\n$`},
		{cmd: "MEMORY USAGE z SAMPLES 0", shape: `^:[1-9]\d*\r\n$`},
		{cmd: "MEMORY USAGE s SAMPLES 1 SAMPLES 2", shape: `^:[1-9]\d*\r\n$`},
		{cmd: "MEMORY USAGE s SAMPLES x", want: "-ERR value is not an integer or out of range\r\n"},
		{cmd: "MEMORY USAGE s SAMPLES -1", want: "-ERR syntax error\r\n"},
		{cmd: "MEMORY USAGE s SAMPLES", want: "-ERR syntax error\r\n"},
		{cmd: "MEMORY USAGE s foo 1", want: "-ERR syntax error\r\n"},
		{cmd: "MEMORY USAGE", want: "-ERR wrong number of arguments for 'memory|usage' command\r\n"},
		{cmd: "MEMORY HELP", shape: `^\*\d+\r\n\+MEMORY <subcommand> \[<arg> \[value\] \[opt\] \.\.\.\]\. Subcommands are:\r\n(\+[^\r\n]*\r\n)+$`},
		{cmd: "MEMORY HELP x", want: "-ERR wrong number of arguments for 'memory|help' command\r\n"},
		{cmd: "MEMORY foo", want: "-ERR unknown subcommand 'foo'. Try MEMORY HELP.\r\n"},
	}},
	{name: "debug", steps: []probeStep{
		{cmd: "DEBUG SLEEP 0", want: "+OK\r\n"},
		{cmd: "DEBUG SLEEP 0.01", want: "+OK\r\n"},
		{cmd: "DEBUG SLEEP x", want: "+OK\r\n"},
		{cmd: "DEBUG SLEEP", want: "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.\r\n"},
		{cmd: "DEBUG OBJECT nokey", want: "-ERR no such key\r\n"},
		{cmd: "SET s hello", want: "+OK\r\n"},
		{cmd: "SET n 123", want: "+OK\r\n"},
		{cmd: "HSET h a b", want: ":1\r\n"},
		{cmd: "DEBUG OBJECT s", shape: fmt.Sprintf(probeDebugObject, "1", "embstr", 6)},
		{cmd: "DEBUG OBJECT n", shape: fmt.Sprintf(probeDebugObject, "2147483647", "int", 2)},
		{cmd: "DEBUG OBJECT h", shape: fmt.Sprintf(probeDebugObject, "1", "listpack", 14)},
		{cmd: "DEBUG OBJECT", want: "-ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP.\r\n"},
		{cmd: "DEBUG OBJECT s x", want: "-ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP.\r\n"},
		{cmd: "DEBUG foo", want: "-ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.\r\n"},
		{cmd: "DEBUG", want: "-ERR wrong number of arguments for 'debug' command\r\n"},
		{cmd: "MULTI", want: "+OK\r\n"},
		{cmd: "DEBUG OBJECT nokey", want: "+QUEUED\r\n"},
		{cmd: "EXEC", want: "*1\r\n-ERR no such key\r\n"},
	}},
	{name: "object freq and idletime", steps: []probeStep{
		{cmd: "OBJECT FREQ nokey", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "OBJECT IDLETIME nokey", want: "$-1\r\n", want3: "_\r\n"},
		{cmd: "SET s v", want: "+OK\r\n"},
		{cmd: "OBJECT FREQ s", want: "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"},
		{cmd: "OBJECT IDLETIME s", shape: `^:\d+\r\n$`},
		{cmd: "CONFIG SET maxmemory-policy allkeys-lfu", want: "+OK\r\n"},
		{cmd: "OBJECT FREQ s", shape: `^:\d+\r\n$`},
		{cmd: "OBJECT IDLETIME s", want: "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"},
		{cmd: "CONFIG SET maxmemory-policy noeviction", want: "+OK\r\n"},
	}},
	// What sessdb deliberately answers differently from Redis 7.0.15.
	{name: "client tracking on is refused", sessdbOnly: "Redis 7.0.15 answers +OK and then sends invalidations, which sessdb does not", steps: []probeStep{
		{cmd: "CLIENT TRACKING on", want: "-ERR CLIENT TRACKING is not supported: sessdb does not implement client-side caching invalidation\r\n"},
		{cmd: "CLIENT TRACKING ON OPTIN", want: "-ERR CLIENT TRACKING is not supported: sessdb does not implement client-side caching invalidation\r\n"},
	}},
	{name: "newer client subcommands", sessdbOnly: "CLIENT NO-TOUCH is Redis 7.2 and CLIENT MAINT_NOTIFICATIONS Redis 8.x; 7.0.15 answers unknown subcommand", steps: []probeStep{
		{cmd: "CLIENT NO-TOUCH on", want: "+OK\r\n"},
		{cmd: "CLIENT NO-TOUCH off", want: "+OK\r\n"},
		{cmd: "CLIENT NO-TOUCH x", want: "-ERR syntax error\r\n"},
		{cmd: "CLIENT MAINT_NOTIFICATIONS", want: "+OK\r\n"},
		{cmd: "CLIENT MAINT_NOTIFICATIONS on moving-endpoint-type internal-ip", want: "+OK\r\n"},
	}},
	{name: "debug sleep is capped", sessdbOnly: "Redis sleeps (stalling the whole server) for any time asked", steps: []probeStep{
		{cmd: "DEBUG SLEEP 1.5", want: "-ERR DEBUG SLEEP is limited to 0..1 seconds in sessdb\r\n"},
		{cmd: "DEBUG SLEEP -1", want: "-ERR DEBUG SLEEP is limited to 0..1 seconds in sessdb\r\n"},
	}},
}

func TestProbeProtocol_Replies(t *testing.T) {
	t.Run("sessdb", func(t *testing.T) {
		probeRun(t, probeStartSessdb(t, t.TempDir()), false, probeCases)
	})
	t.Run("redis", func(t *testing.T) {
		probeRun(t, probeStartRedis(t), true, probeCases)
	})
}

// MEMORY USAGE grows with the value, and DEBUG SLEEP really sleeps.
func TestProbeProtocol_MemoryAndSleep(t *testing.T) {
	c := probeDial(t, probeStartSessdb(t, t.TempDir()), 2)
	usage := func(key string) int {
		r := c.do(t, "MEMORY", "USAGE", key)
		require.Regexp(t, `^:\d+\r\n$`, r)
		n, err := strconv.Atoi(strings.TrimSpace(r[1:]))
		require.NoError(t, err)
		return n
	}
	require.Equal(t, "+OK\r\n", c.do(t, "SET", "small", "x"))
	require.Equal(t, "+OK\r\n", c.do(t, "SET", "large", strings.Repeat("x", 10000)))
	require.Greater(t, usage("large"), usage("small")+10000)
	args := []string{"HSET", "bighash"}
	for i := 0; i < 1000; i++ {
		args = append(args, fmt.Sprintf("field%04d", i), strings.Repeat("v", 100))
	}
	require.Equal(t, ":1000\r\n", c.do(t, args...))
	require.Greater(t, usage("bighash"), 1000*100)
	require.Regexp(t, `encoding:hashtable`, c.do(t, "DEBUG", "OBJECT", "bighash"))

	start := time.Now()
	require.Equal(t, "+OK\r\n", c.do(t, "DEBUG", "SLEEP", "0.2"))
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
}
