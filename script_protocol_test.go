package sessdb_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// The scripting protocol test sends the same commands to an in-process
// sessdb and, when it is installed, to a real redis-server, over RESP2 and
// RESP3, and compares every reply byte for byte with the expectation in the
// table, so the table is proven to be Redis's own answers. Its helpers are
// prefixed script so that the file stands on its own.

const scriptNoRedis = "redis-server not on PATH: install Debian redis-server to prove the scripting expectations against real Redis"

// scriptStep is one command and its raw reply in RESP2 and (when different) RESP3.
type scriptStep struct {
	cmd   string   // split on spaces
	args  []string // used instead of cmd when an argument holds a space or is empty
	want  string
	want3 string
}

func (s scriptStep) argv() []string {
	if s.args != nil {
		return s.args
	}
	return strings.Fields(s.cmd)
}

// scriptCase is a script run on an empty database. redisMin and redisBelow
// bound the Redis versions whose answers it records (sessdb always runs it).
type scriptCase struct {
	name       string
	redisMin   string
	redisBelow string
	steps      []scriptStep
}

// scriptStartSessdb serves a sessdb database in dir on 127.0.0.1 and returns
// its address and a stop function (also run at cleanup).
func scriptStartSessdb(t *testing.T, dir string) (string, func()) {
	t.Helper()
	cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir})
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), &sessdb.Options{Databases: cfg.Databases()})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		require.NoError(t, srv.Close())
		require.NoError(t, <-done)
		require.NoError(t, db.Close())
	}
	t.Cleanup(stop)
	return srv.Addr().String(), stop
}

// scriptStartRedis runs redis-server without persistence on a free port and
// returns its address and version, or skips the test when it is not installed.
func scriptStartRedis(t *testing.T) (string, string) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip(scriptNoRedis)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	var out strings.Builder
	cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	var c *scriptConn
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		c = &scriptConn{conn: conn, r: bufio.NewReader(conn)}
		return true
	}, 5*time.Second, 10*time.Millisecond, "redis-server did not start: %s", &out)
	defer c.conn.Close()
	info := c.do(t, "INFO", "server")
	m := regexp.MustCompile(`redis_version:([0-9.]+)`).FindStringSubmatch(info)
	require.NotNil(t, m, "INFO server: %q", info)
	return addr, m[1]
}

// scriptConn speaks raw RESP: it writes multibulk commands and reads whole
// replies back as the exact bytes the server sent.
type scriptConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func scriptDial(t *testing.T, addr string, proto int) *scriptConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	c := &scriptConn{conn: conn, r: bufio.NewReader(conn)}
	if proto == 3 {
		require.True(t, strings.HasPrefix(c.do(t, "HELLO", "3"), "%"))
	}
	return c
}

func (c *scriptConn) do(t *testing.T, args ...string) string {
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
	require.NoError(t, scriptReadReply(c.r, &reply), "reply to %q so far: %q", args, reply.String())
	return reply.String()
}

// scriptReadReply copies one RESP2 or RESP3 reply from r to out.
func scriptReadReply(r *bufio.Reader, out *strings.Builder) error {
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
			if err := scriptReadReply(r, out); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := scriptReadReply(r, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// scriptVersionLess compares dotted versions numerically.
func scriptVersionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// scriptRun runs every case on addr over RESP2 and RESP3. redisVersion is ""
// for sessdb.
func scriptRun(t *testing.T, addr, redisVersion string, cases []scriptCase) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			c := scriptDial(t, addr, proto)
			for _, tc := range cases {
				if redisVersion != "" && (tc.redisMin != "" && scriptVersionLess(redisVersion, tc.redisMin) ||
					tc.redisBelow != "" && !scriptVersionLess(redisVersion, tc.redisBelow)) {
					t.Logf("%s: not checked against Redis %s", tc.name, redisVersion)
					continue
				}
				require.Equal(t, "+OK\r\n", c.do(t, "FLUSHALL"))
				for _, s := range tc.steps {
					want := s.want
					if proto == 3 && s.want3 != "" {
						want = s.want3
					}
					require.Equal(t, want, c.do(t, s.argv()...), "%s: %q over RESP%d", tc.name, s.argv(), proto)
				}
			}
		})
	}
}

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
func scriptEval(body string, want, want3 string, rest ...string) scriptStep {
	return scriptStep{args: append([]string{"EVAL", body}, rest...), want: want, want3: want3}
}

const scriptUnlock = `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`

var scriptCases = []scriptCase{
	{name: "lua to resp", steps: []scriptStep{
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
	{name: "keys and argv", steps: []scriptStep{
		scriptEval("return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "", "2", "a", "b", "c", "d"),
		scriptEval("return #KEYS + #ARGV * 10", ":21\r\n", "", "1", "a", "b", "c"),
		scriptEval("return {#KEYS, #ARGV}", "*2\r\n:0\r\n:0\r\n", "", "0"),
		scriptEval("return ARGV[1]", "$0\r\n\r\n", "", "0", ""),
	}},
	{name: "numkeys", steps: []scriptStep{
		scriptEval("return 1", "-ERR Number of keys can't be greater than number of args\r\n", "", "3", "a"),
		scriptEval("return 1", "-ERR Number of keys can't be negative\r\n", "", "-1"),
		scriptEval("return 1", "-ERR value is not an integer or out of range\r\n", "", "x"),
		{args: []string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "2", "a"}, want: "-ERR Number of keys can't be greater than number of args\r\n"},
		{cmd: "EVAL", want: "-ERR wrong number of arguments for 'eval' command\r\n"},
		{args: []string{"EVAL", "return 1"}, want: "-ERR wrong number of arguments for 'eval' command\r\n"},
		{cmd: "EVALSHA x", want: "-ERR wrong number of arguments for 'evalsha' command\r\n"},
	}},
	{name: "redis.call", steps: []scriptStep{
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
	{name: "call errors", steps: []scriptStep{
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
	{name: "pcall", steps: []scriptStep{
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
	{name: "lua errors", steps: []scriptStep{
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
	{name: "error_reply and status_reply", steps: []scriptStep{
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
	{name: "evalsha and script", steps: []scriptStep{
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
	{name: "read-only scripts", steps: []scriptStep{
		{cmd: "SET k v", want: "+OK\r\n"},
		{args: []string{"EVAL_RO", "return redis.call('get',KEYS[1])", "1", "k"}, want: "$1\r\nv\r\n"},
		{args: []string{"EVAL_RO", "return redis.call('set',KEYS[1],'w')", "1", "k"}, want: scriptErr("return redis.call('set',KEYS[1],'w')", "ERR Write commands are not allowed from read-only scripts.", 1)},
		{args: []string{"EVAL_RO", "return redis.pcall('del',KEYS[1])", "1", "k"}, want: "-ERR Write commands are not allowed from read-only scripts.\r\n"},
		{cmd: "GET k", want: "$1\r\nv\r\n"},
	}},
	{name: "session unlock", steps: []scriptStep{
		{cmd: "SET PHPREDIS_SESSION:abc_LOCK tok NX EX 30", want: "+OK\r\n"},
		scriptEval(scriptUnlock, ":0\r\n", "", "1", "PHPREDIS_SESSION:abc_LOCK", "other"),
		{cmd: "GET PHPREDIS_SESSION:abc_LOCK", want: "$3\r\ntok\r\n"},
		scriptEval(scriptUnlock, ":1\r\n", "", "1", "PHPREDIS_SESSION:abc_LOCK", "tok"),
		{cmd: "EXISTS PHPREDIS_SESSION:abc_LOCK", want: ":0\r\n"},
		scriptEval(scriptUnlock, ":0\r\n", "", "1", "PHPREDIS_SESSION:abc_LOCK", "tok"),
	}},
	{name: "multi", steps: []scriptStep{
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
		addr, _ := scriptStartSessdb(t, t.TempDir())
		scriptRun(t, addr, "", scriptCases)
	})
	t.Run("redis", func(t *testing.T) {
		addr, version := scriptStartRedis(t)
		scriptRun(t, addr, version, scriptCases)
	})
}

// Ensure that a script that does not compile is refused with Redis's prefix
// (the parser's own message after it differs: see cmd_script.go).
func TestScriptProtocol_CompileError(t *testing.T) {
	check := func(t *testing.T, addr string) {
		c := scriptDial(t, addr, 2)
		for _, cmd := range [][]string{{"EVAL", "return 1 +", "0"}, {"SCRIPT", "LOAD", "return 1 +"}} {
			got := c.do(t, cmd...)
			require.True(t, strings.HasPrefix(got, "-ERR Error compiling script (new function): user_script:1: "), "%q", got)
			require.True(t, strings.HasSuffix(got, " near '<eof>'\r\n"), "%q", got)
		}
		require.Equal(t, "*1\r\n:0\r\n", c.do(t, "SCRIPT", "EXISTS", scriptSHA("return 1 +")))
	}
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := scriptStartSessdb(t, t.TempDir())
		check(t, addr)
	})
	t.Run("redis", func(t *testing.T) {
		addr, _ := scriptStartRedis(t)
		check(t, addr)
	})
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
			c := scriptDial(t, addr, 2)
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
		c := scriptDial(t, addr, 2)
		require.Equal(t, fmt.Sprintf("$3\r\n%d\r\n", conns*each), c.do(t, "GET", "counter"))
	}
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := scriptStartSessdb(t, t.TempDir())
		check(t, addr)
	})
	t.Run("redis", func(t *testing.T) {
		addr, _ := scriptStartRedis(t)
		check(t, addr)
	})
}

// Ensure that a script's writes are durable: they survive a restart.
func TestScriptProtocol_Restart(t *testing.T) {
	dir := t.TempDir()
	addr, stop := scriptStartSessdb(t, dir)
	c := scriptDial(t, addr, 2)
	require.Equal(t, "*2\r\n+OK\r\n:1\r\n", c.do(t, "EVAL", "return {redis.call('set',KEYS[1],ARGV[1]), redis.call('hset',KEYS[2],'f',ARGV[1])}", "2", "s", "h", "val"))
	stop()
	addr, _ = scriptStartSessdb(t, dir)
	c = scriptDial(t, addr, 2)
	require.Equal(t, "$3\r\nval\r\n", c.do(t, "GET", "s"))
	require.Equal(t, "$3\r\nval\r\n", c.do(t, "HGET", "h", "f"))
}

// Ensure that a script cannot change what the next script sees: the VMs
// are reused, so one whose shared tables changed is dropped.
func TestScriptProtocol_Isolation(t *testing.T) {
	addr, _ := scriptStartSessdb(t, t.TempDir())
	c := scriptDial(t, addr, 2)
	for i := 0; i < 20; i++ {
		require.Equal(t, "$-1\r\n", c.do(t, "EVAL", "string.rep = nil; rawset(_G, 'leak', 1); redis.call = function() return 'evil' end; setmetatable(_G, nil)", "0"))
		require.Equal(t, "*3\r\n$2\r\nxx\r\n$-1\r\n+PONG\r\n", c.do(t, "EVAL", "return {string.rep('x', 2), rawget(_G, 'leak') or false, redis.call('ping')}", "0"))
	}
}

// Ensure that the commands a script runs publish their keyspace events, in
// order, as Redis does.
func TestScriptProtocol_KeyspaceEvents(t *testing.T) {
	check := func(t *testing.T, addr string) {
		c := scriptDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", c.do(t, "CONFIG", "SET", "notify-keyspace-events", "E$g"))
		sub := scriptDial(t, addr, 2)
		require.Equal(t, "*3\r\n$10\r\npsubscribe\r\n$16\r\n__keyevent@0__:*\r\n:1\r\n", sub.do(t, "PSUBSCRIBE", "__keyevent@0__:*"))
		require.Equal(t, ":1\r\n", c.do(t, "EVAL", "redis.call('set',KEYS[1],'v'); redis.call('append',KEYS[1],'w'); return redis.call('del',KEYS[1])", "1", "k"))
		var got []string
		for len(got) < 3 {
			var msg strings.Builder
			require.NoError(t, scriptReadReply(sub.r, &msg))
			parts := strings.Split(msg.String(), "\r\n")
			require.Len(t, parts, 10, "%q", msg.String())
			got = append(got, strings.TrimPrefix(parts[6], "__keyevent@0__:")+" "+parts[8])
		}
		require.Equal(t, []string{"set k", "append k", "del k"}, got)
	}
	t.Run("sessdb", func(t *testing.T) {
		addr, _ := scriptStartSessdb(t, t.TempDir())
		check(t, addr)
	})
	t.Run("redis", func(t *testing.T) {
		addr, _ := scriptStartRedis(t)
		check(t, addr)
	})
}
