package sessdb_test

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The scripting protocol test sends the same commands to an in-process
// sessdb and, when it is installed, to a real redis-server, over RESP2 and
// RESP3, and compares every reply byte for byte with the expectation in the
// table, so the table is proven to be Redis's own answers. Its helpers are
// prefixed script so that the file stands on its own.

// scriptSHA is the SHA1 Redis names a script by.
func scriptSHA(body string) string {
	sum := sha1.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// scriptErr is Redis 7's reply to a script that raised msg on line.
func scriptErr(body, msg string, line int) string {
	return fmt.Sprintf("-%s script: %s, on @user_script:%d.\r\n", msg, scriptSHA(body), line)
}

// scriptEval is an EVAL step of body with numkeys and its arguments.
func scriptEval(body string, want, want3 string, rest ...string) harnessStep {
	return harnessStep{args: append([]string{"EVAL", body}, rest...), want: want, want3: want3}
}

const scriptUnlock = `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`

var scriptCases = []harnessCase{
	{name: "lua to resp", steps: []harnessStep{
		scriptEval("return 1", ":1\r\n", "", "0"),
		scriptEval("return 3.99", ":3\r\n", "", "0"),
		scriptEval("return -3.7", ":-3\r\n", "", "0"),
		scriptEval("return 2^53", ":9007199254740992\r\n", "", "0"),
		scriptEval("return 'hi'", "$2\r\nhi\r\n", "", "0"),
		scriptEval("return true", ":1\r\n", "", "0"),
		scriptEval("return false", "$-1\r\n", "_\r\n", "0"),
		scriptEval("return nil", "$-1\r\n", "_\r\n", "0"),
		scriptEval("return {1,2,{3,'x'},nil,5}", "*3\r\n:1\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n", "", "0"),
		scriptEval("return {ok='fine'}", "+fine\r\n", "", "0"),
		scriptEval("return {err='bad thing'}", "-bad thing\r\n", "", "0"),
		scriptEval("return {err='MYERR bad thing'}", "-MYERR bad thing\r\n", "", "0"),
		scriptEval("return {1,'a',{ok='x'},{err='y'}}", "*4\r\n:1\r\n$1\r\na\r\n+x\r\n-y\r\n", "", "0"),
		scriptEval("return {1,{ok='x'},false}", "*3\r\n:1\r\n+x\r\n$-1\r\n", "*3\r\n:1\r\n+x\r\n_\r\n", "0"),
		scriptEval("return {1,2,x=3}", "*2\r\n:1\r\n:2\r\n", "", "0"),
		scriptEval("return {err=5}", "*0\r\n", "", "0"),
		scriptEval("return {}", "*0\r\n", "", "0"),
		scriptEval("return redis.sha1hex('')", "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n", "", "0"),
		scriptEval("return string.rep('x', 3) .. table.concat({'a','b'}, ',') .. math.floor(2.7)", "$7\r\nxxxa,b2\r\n", "", "0"),
	}},
	{name: "keys and argv", steps: []harnessStep{
		scriptEval("return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "", "2", "a", "b", "c", "d"),
		scriptEval("return #KEYS + #ARGV * 10", ":21\r\n", "", "1", "a", "b", "c"),
		scriptEval("return {#KEYS, #ARGV}", "*2\r\n:0\r\n:0\r\n", "", "0"),
		scriptEval("return ARGV[1]", "$0\r\n\r\n", "", "0", ""),
	}},
	{name: "numkeys", steps: []harnessStep{
		scriptEval("return 1", "-ERR Number of keys can't be greater than number of args\r\n", "", "3", "a"),
		scriptEval("return 1", "-ERR Number of keys can't be negative\r\n", "", "-1"),
		scriptEval("return 1", "-ERR value is not an integer or out of range\r\n", "", "x"),
		{args: []string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "2", "a"}, want: "-ERR Number of keys can't be greater than number of args\r\n"},
		{cmd: "EVAL", want: "-ERR wrong number of arguments for 'eval' command\r\n"},
		{args: []string{"EVAL", "return 1"}, want: "-ERR wrong number of arguments for 'eval' command\r\n"},
		{cmd: "EVALSHA x", want: "-ERR wrong number of arguments for 'evalsha' command\r\n"},
	}},
	{name: "redis.call", steps: []harnessStep{
		scriptEval("return redis.call('set',KEYS[1],ARGV[1])", "+OK\r\n", "", "1", "k", "41"),
		scriptEval("return redis.call('incr',KEYS[1])", ":42\r\n", "", "1", "k"),
		scriptEval("return redis.call('get',KEYS[1])", "$2\r\n42\r\n", "", "1", "k"),
		{cmd: "GET k", want: "$2\r\n42\r\n"},
		scriptEval("return redis.call('get','nokey')", "$-1\r\n", "_\r\n", "0"),
		scriptEval("return tostring(redis.call('get','nokey'))", "$5\r\nfalse\r\n", "", "0"),
		scriptEval("return redis.call('hgetall','nokey')", "*0\r\n", "", "0"),
		scriptEval("return redis.call('ping')", "+PONG\r\n", "", "0"),
		scriptEval("return redis.call('PING', 'x')", "$1\r\nx\r\n", "", "0"),
		scriptEval("local r = redis.call('set','s','v'); return r.ok", "$2\r\nOK\r\n", "", "0"),
		scriptEval("return redis.call('set',KEYS[1],2.5)", "+OK\r\n", "", "1", "f"),
		{cmd: "GET f", want: "$3\r\n2.5\r\n"},
		scriptEval("return redis.call('incrbyfloat','f','1')", "$3\r\n3.5\r\n", "", "0"),
		scriptEval("return redis.call('set','k','v','get')", "$2\r\n42\r\n", "", "0"),
		{cmd: "HSET h a 1", want: ":1\r\n"},
		scriptEval("return redis.call('hgetall','h')", "*2\r\n$1\r\na\r\n$1\r\n1\r\n", "", "0"),
		{cmd: "ZADD z 1.5 a", want: ":1\r\n"},
		scriptEval("return redis.call('zscore','z','a')", "$3\r\n1.5\r\n", "", "0"),
		scriptEval("return redis.call('zrange','z',0,-1,'withscores')", "*2\r\n$1\r\na\r\n$3\r\n1.5\r\n", "", "0"),
		scriptEval("redis.call('select','1'); return redis.call('set','k','db1')", "+OK\r\n", "", "0"),
		{cmd: "GET k", want: "$1\r\nv\r\n"},
		{cmd: "SELECT 1", want: "+OK\r\n"},
		{cmd: "GET k", want: "$3\r\ndb1\r\n"},
		{cmd: "SELECT 0", want: "+OK\r\n"},
	}},
	{name: "call errors", steps: []harnessStep{
		scriptEval("return redis.call('get')", scriptErr("return redis.call('get')", "ERR Wrong number of args calling Redis command from script", 1), "", "0"),
		scriptEval("\n\nreturn redis.call('get')", scriptErr("\n\nreturn redis.call('get')", "ERR Wrong number of args calling Redis command from script", 3), "", "0"),
		scriptEval("return redis.call('nosuch')", scriptErr("return redis.call('nosuch')", "ERR Unknown Redis command called from script", 1), "", "0"),
		scriptEval("return redis.call()", scriptErr("return redis.call()", "ERR Please specify at least one argument for this redis lib call", 1), "", "0"),
		scriptEval("return redis.call('get',{})", scriptErr("return redis.call('get',{})", "ERR Lua redis lib command arguments must be strings or integers", 1), "", "0"),
		scriptEval("return redis.call('multi')", scriptErr("return redis.call('multi')", "ERR This Redis command is not allowed from script", 1), "", "0"),
		scriptEval("return redis.call('eval','return 1','0')", scriptErr("return redis.call('eval','return 1','0')", "ERR This Redis command is not allowed from script", 1), "", "0"),
		scriptEval("return redis.call('subscribe','c')", scriptErr("return redis.call('subscribe','c')", "ERR This Redis command is not allowed from script", 1), "", "0"),
		scriptEval("return redis.call('script','load','return 1')", scriptErr("return redis.call('script','load','return 1')", "ERR This Redis command is not allowed from script", 1), "", "0"),
		{cmd: "SET k v", want: "+OK\r\n"},
		scriptEval("return redis.call('incr','k')", scriptErr("return redis.call('incr','k')", "ERR value is not an integer or out of range", 1), "", "0"),
		scriptEval("return redis.call('set','k','v','ex','0')", scriptErr("return redis.call('set','k','v','ex','0')", "ERR invalid expire time in 'set' command", 1), "", "0"),
		scriptEval("return redis.call('hget','k','f')", scriptErr("return redis.call('hget','k','f')", "WRONGTYPE Operation against a key holding the wrong kind of value", 1), "", "0"),
		scriptEval("redis.call('set','x','1'); redis.call('nosuch')", scriptErr("redis.call('set','x','1'); redis.call('nosuch')", "ERR Unknown Redis command called from script", 1), "", "0"),
		{cmd: "GET x", want: "$1\r\n1\r\n"},
	}},
	{name: "pcall", steps: []harnessStep{
		{cmd: "SET k v", want: "+OK\r\n"},
		scriptEval("return redis.pcall('incr','k')", "-ERR value is not an integer or out of range\r\n", "", "0"),
		scriptEval("local r = redis.pcall('incr','k'); return type(r)..':'..r['err']", "$49\r\ntable:ERR value is not an integer or out of range\r\n", "", "0"),
		scriptEval("return redis.pcall('get')", "-ERR Wrong number of args calling Redis command from script\r\n", "", "0"),
		scriptEval("return redis.pcall('nosuch')", "-ERR Unknown Redis command called from script\r\n", "", "0"),
		scriptEval("return redis.pcall('get',{})", "-ERR Lua redis lib command arguments must be strings or integers\r\n", "", "0"),
		scriptEval("local r = redis.pcall('hget','k','f'); if r.err then return 'caught' end", "$6\r\ncaught\r\n", "", "0"),
		scriptEval("return redis.pcall('get','k')", "$1\r\nv\r\n", "", "0"),
		scriptEval("local ok, e = pcall(redis.call, 'incr', 'k'); return {tostring(ok), type(e), e}", "*3\r\n$5\r\nfalse\r\n$6\r\nstring\r\n$43\r\nERR value is not an integer or out of range\r\n", "", "0"),
		scriptEval("local ok, e = pcall(function() return redis.call('nosuch') end); return {tostring(ok), e}", "*2\r\n$5\r\nfalse\r\n$44\r\nERR Unknown Redis command called from script\r\n", "", "0"),
		scriptEval("local ok, v = pcall(redis.call, 'get', 'k'); return {tostring(ok), v}", "*2\r\n$4\r\ntrue\r\n$1\r\nv\r\n", "", "0"),
	}},
	{name: "lua errors", steps: []harnessStep{
		scriptEval("error('boom')", scriptErr("error('boom')", "ERR user_script:1: boom", 1), "", "0"),
		scriptEval("error({err='X y'})", scriptErr("error({err='X y'})", "X y", 1), "", "0"),
		scriptEval("error()", scriptErr("error()", "ERR nil", 1), "", "0"),
		scriptEval("return os.time()", scriptErr("return os.time()", "ERR user_script:1: Script attempted to access nonexistent global variable 'os'", 1), "", "0"),
		scriptEval("return type(dofile)", scriptErr("return type(dofile)", "ERR user_script:1: Script attempted to access nonexistent global variable 'dofile'", 1), "", "0"),
		scriptEval("return type(io)", scriptErr("return type(io)", "ERR user_script:1: Script attempted to access nonexistent global variable 'io'", 1), "", "0"),
		scriptEval("x=1", scriptErr("x=1", "ERR user_script:1: Attempt to modify a readonly table", 1), "", "0"),
		scriptEval("\nerror('two')", scriptErr("\nerror('two')", "ERR user_script:2: two", 2), "", "0"),
		scriptEval("local function f()\n  redis.call('get')\nend\nf()", scriptErr("local function f()\n  redis.call('get')\nend\nf()", "ERR Wrong number of args calling Redis command from script", 2), "", "0"),
	}},
	{name: "error_reply and status_reply", steps: []harnessStep{
		scriptEval("return redis.error_reply('my error')", "-my error\r\n", "", "0"),
		scriptEval("return redis.error_reply('-MY error')", "-MY error\r\n", "", "0"),
		scriptEval("return redis.error_reply('MY')", "-ERR MY\r\n", "", "0"),
		scriptEval("return redis.error_reply('')", "-ERR \r\n", "", "0"),
		scriptEval("return redis.error_reply(5)", "-ERR wrong number or type of arguments\r\n", "", "0"),
		scriptEval("return redis.error_reply('MY x').err", "$4\r\nMY x\r\n", "", "0"),
		scriptEval("return redis.status_reply('FINE')", "+FINE\r\n", "", "0"),
		scriptEval("return redis.status_reply('FINE').ok", "$4\r\nFINE\r\n", "", "0"),
		scriptEval("return redis.status_reply()", "-ERR wrong number or type of arguments\r\n", "", "0"),
		scriptEval("return {redis.status_reply('A'), redis.error_reply('B c')}", "*2\r\n+A\r\n-B c\r\n", "", "0"),
	}},
	{name: "evalsha and script", steps: []harnessStep{
		{cmd: "SCRIPT FLUSH", want: "+OK\r\n"},
		{cmd: "SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db ffff", want: "*2\r\n:0\r\n:0\r\n"},
		{cmd: "EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", want: "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		{args: []string{"SCRIPT", "LOAD", "return 1"}, want: "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n"},
		{cmd: "EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", want: ":1\r\n"},
		{cmd: "EVALSHA E0E1F9FABFC9D4800C877A703B823AC0578FF8DB 0", want: ":1\r\n"},
		{cmd: "EVALSHA_RO e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", want: ":1\r\n"},
		{cmd: "SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db ffff E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", want: "*3\r\n:1\r\n:0\r\n:1\r\n"},
		{cmd: "EVALSHA ffffffffffffffffffffffffffffffffffffffff 0", want: "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		{cmd: "EVALSHA abc 0", want: "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		{cmd: "EVALSHA_RO abc 0", want: "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		{cmd: "SCRIPT FLUSH", want: "+OK\r\n"},
		{cmd: "SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db", want: "*1\r\n:0\r\n"},
		{cmd: "EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", want: "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		scriptEval("return 1", ":1\r\n", "", "0"),
		{cmd: "EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", want: ":1\r\n"},
		{args: []string{"SCRIPT", "LOAD", scriptUnlock}, want: "$40\r\n" + scriptSHA(scriptUnlock) + "\r\n"},
		{cmd: "SET sess tok", want: "+OK\r\n"},
		{args: []string{"EVALSHA", scriptSHA(scriptUnlock), "1", "sess", "tok"}, want: ":1\r\n"},
		{cmd: "SCRIPT FLUSH ASYNC", want: "+OK\r\n"},
		{cmd: "SCRIPT FLUSH sync", want: "+OK\r\n"},
		{cmd: "SCRIPT FLUSH x", want: "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"},
		{cmd: "SCRIPT KILL", want: "-NOTBUSY No scripts in execution right now.\r\n"},
		{cmd: "SCRIPT NOPE", want: "-ERR unknown subcommand 'NOPE'. Try SCRIPT HELP.\r\n"},
		{cmd: "SCRIPT", want: "-ERR wrong number of arguments for 'script' command\r\n"},
		{cmd: "SCRIPT LOAD", want: "-ERR wrong number of arguments for 'script|load' command\r\n"},
		{cmd: "SCRIPT EXISTS", want: "-ERR wrong number of arguments for 'script|exists' command\r\n"},
	}},
	{name: "read-only scripts", steps: []harnessStep{
		{cmd: "SET k v", want: "+OK\r\n"},
		{args: []string{"EVAL_RO", "return redis.call('get',KEYS[1])", "1", "k"}, want: "$1\r\nv\r\n"},
		{args: []string{"EVAL_RO", "return redis.call('set',KEYS[1],'w')", "1", "k"}, want: scriptErr("return redis.call('set',KEYS[1],'w')", "ERR Write commands are not allowed from read-only scripts.", 1)},
		{args: []string{"EVAL_RO", "return redis.pcall('del',KEYS[1])", "1", "k"}, want: "-ERR Write commands are not allowed from read-only scripts.\r\n"},
		{cmd: "GET k", want: "$1\r\nv\r\n"},
	}},
	{name: "session unlock", steps: []harnessStep{
		{cmd: "SET PHPREDIS_SESSION:abc_LOCK tok NX EX 30", want: "+OK\r\n"},
		scriptEval(scriptUnlock, ":0\r\n", "", "1", "PHPREDIS_SESSION:abc_LOCK", "other"),
		{cmd: "GET PHPREDIS_SESSION:abc_LOCK", want: "$3\r\ntok\r\n"},
		scriptEval(scriptUnlock, ":1\r\n", "", "1", "PHPREDIS_SESSION:abc_LOCK", "tok"),
		{cmd: "EXISTS PHPREDIS_SESSION:abc_LOCK", want: ":0\r\n"},
		scriptEval(scriptUnlock, ":0\r\n", "", "1", "PHPREDIS_SESSION:abc_LOCK", "tok"),
	}},
	{name: "multi", steps: []harnessStep{
		{cmd: "MULTI", want: "+OK\r\n"},
		{args: []string{"EVAL", "return redis.call('incr',KEYS[1])", "1", "m"}, want: "+QUEUED\r\n"},
		{args: []string{"EVAL", "return redis.call('incr',KEYS[1])", "1", "m"}, want: "+QUEUED\r\n"},
		{args: []string{"EVAL_RO", "return redis.call('get',KEYS[1])", "1", "m"}, want: "+QUEUED\r\n"},
		{cmd: "EXEC", want: "*3\r\n:1\r\n:2\r\n$1\r\n2\r\n"},
	}},
}

// Ensure that EVAL, EVALSHA, their _RO forms and SCRIPT answer as Redis
// does, byte for byte, over RESP2 and RESP3: Lua↔RESP conversions,
// redis.call and redis.pcall, error_reply/status_reply and every error.
func TestScriptProtocol_Replies(t *testing.T) {
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := harnessStartSessdb(t, t.TempDir())
		harnessRun(t, addr, "", scriptCases)
	})
	t.Run("redis", func(t *testing.T) {
		addr, version := harnessStartRedis(t)
		harnessRun(t, addr, version, scriptCases)
	})
}

// Ensure that a script that does not compile is refused with Redis's prefix
// (the parser's own message after it differs: see cmd_script.go).
func TestScriptProtocol_CompileError(t *testing.T) {
	check := func(t *testing.T, addr string) {
		c := harnessDial(t, addr, 2)
		for _, cmd := range [][]string{{"EVAL", "return 1 +", "0"}, {"SCRIPT", "LOAD", "return 1 +"}} {
			got := c.do(t, cmd...)
			require.True(t, strings.HasPrefix(got, "-ERR Error compiling script (new function): user_script:1: "), "%q", got)
			require.True(t, strings.HasSuffix(got, " near '<eof>'\r\n"), "%q", got)
		}
		require.Equal(t, "*1\r\n:0\r\n", c.do(t, "SCRIPT", "EXISTS", scriptSHA("return 1 +")))
	}
	harnessBoth(t, check)
}

// Ensure that a script runs atomically: read-modify-write increments from
// many connections at once lose no update.
func TestScriptProtocol_Atomic(t *testing.T) {
	const body = "local v = tonumber(redis.call('get',KEYS[1]) or '0') + 1\nredis.call('set',KEYS[1],v)\nreturn v"
	check := func(t *testing.T, addr string) {
		const conns, each = 8, 50
		var wg sync.WaitGroup
		errs := make(chan string, conns*each)
		for i := 0; i < conns; i++ {
			c := harnessDial(t, addr, 2)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					if got := c.do(t, "EVAL", body, "1", "counter"); !strings.HasPrefix(got, ":") {
						errs <- got
					}
					// Read-only scripts run side by side under a shared lock.
					if got := c.do(t, "EVAL_RO", "return redis.call('get',KEYS[1])", "1", "counter"); !strings.HasPrefix(got, "$") {
						errs <- got
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("EVAL: %q", e)
		}
		c := harnessDial(t, addr, 2)
		require.Equal(t, fmt.Sprintf("$3\r\n%d\r\n", conns*each), c.do(t, "GET", "counter"))
	}
	harnessBoth(t, check)
}

// Ensure that a script's writes are durable: they survive a restart.
func TestScriptProtocol_Restart(t *testing.T) {
	dir := t.TempDir()
	addr, stop := harnessStartSessdb(t, dir)
	c := harnessDial(t, addr, 2)
	require.Equal(t, "*2\r\n+OK\r\n:1\r\n", c.do(t, "EVAL", "return {redis.call('set',KEYS[1],ARGV[1]), redis.call('hset',KEYS[2],'f',ARGV[1])}", "2", "s", "h", "val"))
	stop()
	addr, _ = harnessStartSessdb(t, dir)
	c = harnessDial(t, addr, 2)
	require.Equal(t, "$3\r\nval\r\n", c.do(t, "GET", "s"))
	require.Equal(t, "$3\r\nval\r\n", c.do(t, "HGET", "h", "f"))
}

// Ensure that a script cannot change what the next script sees: the VMs
// are reused, so one whose shared tables changed is dropped.
func TestScriptProtocol_Isolation(t *testing.T) {
	addr, _ := harnessStartSessdb(t, t.TempDir())
	c := harnessDial(t, addr, 2)
	for i := 0; i < 20; i++ {
		require.Equal(t, "$-1\r\n", c.do(t, "EVAL", "string.rep = nil; rawset(_G, 'leak', 1); redis.call = function() return 'evil' end; setmetatable(_G, nil)", "0"))
		require.Equal(t, "*3\r\n$2\r\nxx\r\n$-1\r\n+PONG\r\n", c.do(t, "EVAL", "return {string.rep('x', 2), rawget(_G, 'leak') or false, redis.call('ping')}", "0"))
	}
}

// Ensure that the commands a script runs publish their keyspace events, in
// order, as Redis does.
func TestScriptProtocol_KeyspaceEvents(t *testing.T) {
	check := func(t *testing.T, addr string) {
		c := harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", c.do(t, "CONFIG", "SET", "notify-keyspace-events", "E$g"))
		sub := harnessDial(t, addr, 2)
		require.Equal(t, "*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n", sub.do(t, "PSUBSCRIBE", "__keyevent@0__:*"))
		require.Equal(t, ":1\r\n", c.do(t, "EVAL", "redis.call('set',KEYS[1],'v'); redis.call('append',KEYS[1],'w'); return redis.call('del',KEYS[1])", "1", "k"))
		var got []string
		for len(got) < 3 {
			var msg strings.Builder
			require.NoError(t, harnessReadReply(sub.r, &msg))
			parts := strings.Split(msg.String(), "\r\n")
			require.Len(t, parts, 10, "%q", msg.String())
			got = append(got, strings.TrimPrefix(parts[6], "__keyevent@0__:")+" "+parts[8])
		}
		require.Equal(t, []string{"set k", "append k", "del k"}, got)
	}
	harnessBoth(t, check)
}
