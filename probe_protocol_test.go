package sessdb_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The probe protocol test sends the small commands clients and tools probe
// (CLIENT NO-EVICT / TRACKING / …, WAIT, LATENCY, SLOWLOG, MEMORY, DEBUG,
// OBJECT) to an in-process sessdb and, when it is installed, to a real
// redis-server, over RESP2 and RESP3. Deterministic replies are compared
// byte for byte, the rest by shape. Its helpers are prefixed probe so that
// the file stands on its own.

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
var probeCases = []harnessCase{
	{name: "client no-evict and tracking off", steps: []harnessStep{
		{cmd: "CLIENT NO-EVICT on", want: "+OK\r\n"},
		{cmd: "CLIENT NO-EVICT OFF", want: "+OK\r\n"},
		{cmd: "CLIENT NO-EVICT maybe", want: "-ERR syntax error\r\n"},
		{cmd: "CLIENT NO-EVICT", want: "-ERR wrong number of arguments for 'client|no-evict' command\r\n"},
		{cmd: "CLIENT NO-EVICT on x", want: "-ERR wrong number of arguments for 'client|no-evict' command\r\n"},
		{cmd: "CLIENT TRACKING off", want: "+OK\r\n"},
		{cmd: "CLIENT TRACKING", want: "-ERR wrong number of arguments for 'client|tracking' command\r\n"},
		{cmd: "CLIENT TRACKING bad", want: "-ERR syntax error\r\n"},
	}},
	{name: "wait", steps: []harnessStep{
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
	{name: "latency", steps: []harnessStep{
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
	{name: "slowlog", steps: []harnessStep{
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
	{name: "memory usage", steps: []harnessStep{
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
	{name: "debug", steps: []harnessStep{
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
	{name: "object freq and idletime", steps: []harnessStep{
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
	{name: "client tracking on is refused", sessdbOnly: "Redis 7.0.15 answers +OK and then sends invalidations, which sessdb does not", steps: []harnessStep{
		{cmd: "CLIENT TRACKING on", want: "-ERR CLIENT TRACKING is not supported: sessdb does not implement client-side caching invalidation\r\n"},
		{cmd: "CLIENT TRACKING ON OPTIN", want: "-ERR CLIENT TRACKING is not supported: sessdb does not implement client-side caching invalidation\r\n"},
	}},
	{name: "newer client subcommands", sessdbOnly: "CLIENT NO-TOUCH is Redis 7.2 and CLIENT MAINT_NOTIFICATIONS Redis 8.x; 7.0.15 answers unknown subcommand", steps: []harnessStep{
		{cmd: "CLIENT NO-TOUCH on", want: "+OK\r\n"},
		{cmd: "CLIENT NO-TOUCH off", want: "+OK\r\n"},
		{cmd: "CLIENT NO-TOUCH x", want: "-ERR syntax error\r\n"},
		{cmd: "CLIENT MAINT_NOTIFICATIONS", want: "+OK\r\n"},
		{cmd: "CLIENT MAINT_NOTIFICATIONS on moving-endpoint-type internal-ip", want: "+OK\r\n"},
	}},
	{name: "debug sleep is capped", sessdbOnly: "Redis sleeps (stalling the whole server) for any time asked", steps: []harnessStep{
		{cmd: "DEBUG SLEEP 1.5", want: "-ERR DEBUG SLEEP is limited to 0..1 seconds in sessdb\r\n"},
		{cmd: "DEBUG SLEEP -1", want: "-ERR DEBUG SLEEP is limited to 0..1 seconds in sessdb\r\n"},
	}},
}

func TestProbeProtocol_Replies(t *testing.T) {
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := harnessStartSessdb(t, t.TempDir())
		harnessRun(t, addr, "", probeCases)
	})
	t.Run("redis", func(t *testing.T) {
		addr, version := harnessStartRedis(t, "--enable-debug-command", "yes")
		harnessRun(t, addr, version, probeCases)
	})
}

// MEMORY USAGE grows with the value, and DEBUG SLEEP really sleeps.
func TestProbeProtocol_MemoryAndSleep(t *testing.T) {
	addr, _ := harnessStartSessdb(t, t.TempDir())
	c := harnessDial(t, addr, 2)
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
