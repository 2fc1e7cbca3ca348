package sessdb_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The busy-script tests run the same steps against an in-process sessdb and,
// when it is installed, a real redis-server, and compare every reply byte for
// byte: a script past busy-reply-threshold makes other clients' commands fail
// with BUSY except the allow-busy ones, SCRIPT KILL stops it unless it wrote,
// and its caller gets Redis's error. The threshold is 10 ms and the tests poll
// for the BUSY state instead of sleeping.

const (
	busyReply       = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
	busyNotBusy     = "-NOTBUSY No scripts in execution right now.\r\n"
	busyUnkillable  = "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n"
	busyLoop        = "while true do end"
	busyKilledStart = "-ERR Script killed by user with SCRIPT KILL... script: "
)

// busyKilled is the reply of a script killed on line.
func busyKilled(body string, line int) string {
	return fmt.Sprintf("%s%s, on @user_script:%d.\r\n", busyKilledStart, scriptSHA(body), line)
}

// busySend writes a command without reading its reply.
func busySend(t *testing.T, c *harnessConn, args ...string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_, err := io.WriteString(c.conn, b.String())
	require.NoError(t, err)
}

// busyRead reads one reply.
func busyRead(t *testing.T, c *harnessConn) string {
	t.Helper()
	require.NoError(t, c.conn.SetDeadline(time.Now().Add(10*time.Second)))
	var reply strings.Builder
	require.NoError(t, harnessReadReply(c.r, &reply), "reply so far: %q", reply.String())
	return reply.String()
}

// busyWait polls with PING until the server answers BUSY.
func busyWait(t *testing.T, c *harnessConn) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.do(t, "PING")
		if got == busyReply {
			return
		}
		require.Equal(t, "+PONG\r\n", got)
		require.True(t, time.Now().Before(deadline), "the script never turned busy")
	}
}

// busyStart sends script (EVAL by default) on a new connection and waits
// until it is busy; it returns the caller's connection.
func busyStart(t *testing.T, addr string, watcher *harnessConn, args ...string) *harnessConn {
	t.Helper()
	a := harnessDial(t, addr, 2)
	busySend(t, a, args...)
	busyWait(t, watcher)
	return a
}

// Ensure that busy-reply-threshold and its alias lua-time-limit are one
// directive, read and written under both names, with Redis's bounds.
func TestScriptBusyProtocol_Config(t *testing.T) {
	harnessBoth(t, func(t *testing.T, addr string) {
		c := harnessDial(t, addr, 2)
		for _, s := range []harnessStep{
			{cmd: "CONFIG GET busy-reply-threshold", want: "*2\r\n$20\r\nbusy-reply-threshold\r\n$4\r\n5000\r\n"},
			{cmd: "CONFIG GET lua-time-limit", want: "*2\r\n$14\r\nlua-time-limit\r\n$4\r\n5000\r\n"},
			{cmd: "CONFIG SET lua-time-limit 10", want: "+OK\r\n"},
			{cmd: "CONFIG GET busy-reply-threshold", want: "*2\r\n$20\r\nbusy-reply-threshold\r\n$2\r\n10\r\n"},
			{cmd: "CONFIG GET *-time-limit", want: "*2\r\n$14\r\nlua-time-limit\r\n$2\r\n10\r\n"},
			{cmd: "CONFIG SET busy-reply-threshold 250", want: "+OK\r\n"},
			{cmd: "CONFIG GET lua-time-limit", want: "*2\r\n$14\r\nlua-time-limit\r\n$3\r\n250\r\n"},
			{cmd: "CONFIG SET busy-reply-threshold -1", want: "-ERR CONFIG SET failed (possibly related to argument 'busy-reply-threshold') - argument must be between 0 and 9223372036854775807 inclusive\r\n"},
			{cmd: "CONFIG SET lua-time-limit abc", want: "-ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument couldn't be parsed into an integer\r\n"},
			{cmd: "CONFIG SET lua-time-limit 1.5", want: "-ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument couldn't be parsed into an integer\r\n"},
		} {
			require.Equal(t, s.want, c.do(t, s.argv()...), "%q", s.argv())
		}
	})
}

// Ensure that, while a script is busy, other clients get BUSY for every
// command but the allow-busy ones, that SCRIPT KILL stops the script and its
// caller gets Redis's error, and that the server then serves as before.
func TestScriptBusyProtocol_Replies(t *testing.T) {
	harnessBoth(t, func(t *testing.T, addr string) {
		b := harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", b.do(t, "FLUSHALL"))
		require.Equal(t, "+OK\r\n", b.do(t, "SET", "k", "v"))
		require.Equal(t, "+OK\r\n", b.do(t, "CONFIG", "SET", "busy-reply-threshold", "10"))
		require.Equal(t, busyNotBusy, b.do(t, "SCRIPT", "KILL"))

		a := busyStart(t, addr, b, "EVAL", busyLoop, "0")
		for _, s := range []harnessStep{
			{cmd: "GET k", want: busyReply},
			{cmd: "SET k w", want: busyReply},
			{cmd: "DEL k", want: busyReply},
			{cmd: "CONFIG GET lua-time-limit", want: busyReply},
			{cmd: "CLIENT ID", want: busyReply},
			{cmd: "INFO server", want: busyReply},
			{cmd: "EVAL return 1 0", want: busyReply},
			{cmd: "SCRIPT FLUSH", want: busyReply},
			{cmd: "SCRIPT HELP", want: busyReply},
			{cmd: "SHUTDOWN", want: busyReply},
			{cmd: "SHUTDOWN SAVE", want: busyReply},
			{cmd: "SHUTDOWN ABORT", want: "-ERR No shutdown in progress.\r\n"},
			{cmd: "SHUTDOWN BOGUS", want: "-ERR syntax error\r\n"},
			{cmd: "SCRIPT KILL x", want: "-ERR wrong number of arguments for 'script|kill' command\r\n"},
			{cmd: "SCRIPT BOGUS", want: "-ERR unknown subcommand 'BOGUS'. Try SCRIPT HELP.\r\n"},
			{cmd: "NOSUCH", want: "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"},
			{cmd: "GET", want: "-ERR wrong number of arguments for 'get' command\r\n"},
			{cmd: "AUTH x", want: "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"},
			{cmd: "HELLO 2", shape: `^\*14\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n`},
			{cmd: "MULTI", want: "+OK\r\n"},
			{cmd: "GET k", want: busyReply},
			{cmd: "EXEC", want: "-EXECABORT Transaction discarded because of: BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"},
			{cmd: "MULTI", want: "+OK\r\n"},
			{cmd: "DISCARD", want: "+OK\r\n"},
			{cmd: "UNWATCH", want: "+OK\r\n"},
			{cmd: "RESET", want: "+RESET\r\n"},
		} {
			got := b.do(t, s.argv()...)
			if s.shape != "" {
				require.Regexp(t, s.shape, got, "%q", s.argv())
				continue
			}
			require.Equal(t, s.want, got, "%q", s.argv())
		}
		q := harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", q.do(t, "QUIT"))

		require.Equal(t, "+OK\r\n", b.do(t, "SCRIPT", "KILL"))
		require.Equal(t, busyKilled(busyLoop, 1), busyRead(t, a))
		require.Equal(t, busyNotBusy, b.do(t, "SCRIPT", "KILL"))
		require.Equal(t, "+PONG\r\n", b.do(t, "PING"))
		require.Equal(t, "$1\r\nv\r\n", b.do(t, "GET", "k"))
		// The caller's connection serves on.
		require.Equal(t, ":1\r\n", a.do(t, "EVAL", "return 1", "0"))
	})
}

// Ensure that SCRIPT KILL stops read-only scripts (EVAL_RO, a script that
// only read, a script inside MULTI/EXEC, one that catches errors with pcall)
// and that a killed script changed nothing.
func TestScriptBusyProtocol_Kill(t *testing.T) {
	const (
		reader = "local v = redis.call('get', KEYS[1])\nwhile true do end"
		pcall  = "local n = 0 while true do local ok, e = pcall(function() while true do end end) n = n + 1 if n > 1 then return tostring(e) end end"
	)
	harnessBoth(t, func(t *testing.T, addr string) {
		b := harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", b.do(t, "FLUSHALL"))
		require.Equal(t, "+OK\r\n", b.do(t, "SET", "k", "v"))
		require.Equal(t, "+OK\r\n", b.do(t, "CONFIG", "SET", "lua-time-limit", "10"))

		a := busyStart(t, addr, b, "EVAL_RO", busyLoop, "0")
		require.Equal(t, "+OK\r\n", b.do(t, "SCRIPT", "KILL"))
		require.Equal(t, busyKilled(busyLoop, 1), busyRead(t, a))

		a = busyStart(t, addr, b, "EVAL", reader, "1", "k")
		require.Equal(t, "+OK\r\n", b.do(t, "SCRIPT", "KILL"))
		require.Equal(t, busyKilled(reader, 2), busyRead(t, a))

		a = busyStart(t, addr, b, "EVAL", pcall, "0")
		require.Equal(t, "+OK\r\n", b.do(t, "SCRIPT", "KILL"))
		require.Equal(t, busyKilled(pcall, 1), busyRead(t, a))

		a = harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", a.do(t, "MULTI"))
		require.Equal(t, "+QUEUED\r\n", a.do(t, "SET", "m", "1"))
		require.Equal(t, "+QUEUED\r\n", a.do(t, "EVAL", busyLoop, "0"))
		busySend(t, a, "EXEC")
		busyWait(t, b)
		// The transaction's SET does not make the script dirty.
		require.Equal(t, "+OK\r\n", b.do(t, "SCRIPT", "KILL"))
		require.Equal(t, "*2\r\n+OK\r\n"+busyKilled(busyLoop, 1), busyRead(t, a))

		require.Equal(t, "$1\r\nv\r\n", b.do(t, "GET", "k"))
		require.Equal(t, "$1\r\n1\r\n", b.do(t, "GET", "m"))
		require.Equal(t, ":2\r\n", b.do(t, "DBSIZE"))
	})
}

// Ensure that a script that has written cannot be killed (UNKILLABLE), that
// it still makes others wait, and that SHUTDOWN NOSAVE ends the server: the
// client that sent it sees its connection closed.
func TestScriptBusyProtocol_Unkillable(t *testing.T) {
	const writer = "redis.call('set', KEYS[1], 'w')\nwhile true do end"
	harnessBoth(t, func(t *testing.T, addr string) {
		b := harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", b.do(t, "CONFIG", "SET", "busy-reply-threshold", "10"))
		busyStart(t, addr, b, "EVAL", writer, "1", "k")
		require.Equal(t, busyUnkillable, b.do(t, "SCRIPT", "KILL"))
		require.Equal(t, busyReply, b.do(t, "GET", "k"))
		require.Equal(t, busyUnkillable, b.do(t, "SCRIPT", "KILL"))
		busySend(t, b, "SHUTDOWN", "NOSAVE")
		require.NoError(t, b.conn.SetDeadline(time.Now().Add(10*time.Second)))
		_, err := b.r.ReadByte()
		require.ErrorIs(t, err, io.EOF, "SHUTDOWN NOSAVE must close the connection without a reply")
	})
}

// Ensure that SHUTDOWN NOSAVE during a busy script that has written stops
// the sessdb process with exit code 0, and that every write acknowledged
// before the script, and the script's own write, are there after a restart.
func TestScriptBusyProtocol_ShutdownProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/sessdb")
	}
	bin := crashBuildSessdb(t)
	dir := t.TempDir()
	proc := crashStartChild(t, bin, dir)
	b := harnessDial(t, proc.addr, 2)
	require.Equal(t, "+OK\r\n", b.do(t, "SET", "before", "1"))
	require.Equal(t, "+OK\r\n", b.do(t, "CONFIG", "SET", "busy-reply-threshold", "10"))
	busyStart(t, proc.addr, b, "EVAL", "redis.call('set','during','1')\nwhile true do end", "0")
	require.Equal(t, busyUnkillable, b.do(t, "SCRIPT", "KILL"))
	busySend(t, b, "SHUTDOWN", "NOSAVE")
	done := make(chan int, 1)
	go func() { done <- proc.wait() }()
	select {
	case code := <-done:
		require.Equal(t, 0, code, "log:\n%s", proc.log.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("sessdb did not exit after SHUTDOWN NOSAVE; log:\n%s", proc.log.String())
	}
	proc = crashStartChild(t, bin, dir)
	c := harnessDial(t, proc.addr, 2)
	require.Equal(t, "$1\r\n1\r\n", c.do(t, "GET", "before"))
	// The stopped script's own write is kept, as a failed script's writes are.
	require.Equal(t, "$1\r\n1\r\n", c.do(t, "GET", "during"))
	proc.stop(t)
}

// Ensure that a raw RESP client that pipelines commands behind a busy check
// keeps its replies in order (the BUSY reply takes the command's place).
func TestScriptBusyProtocol_Pipeline(t *testing.T) {
	harnessBoth(t, func(t *testing.T, addr string) {
		b := harnessDial(t, addr, 2)
		require.Equal(t, "+OK\r\n", b.do(t, "CONFIG", "SET", "busy-reply-threshold", "10"))
		a := busyStart(t, addr, b, "EVAL", busyLoop, "0")
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "PING\r\nGET k\r\nSCRIPT KILL\r\n")
		require.NoError(t, err)
		r := bufio.NewReader(conn)
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		var got []string
		for i := 0; i < 3; i++ {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			got = append(got, line)
		}
		require.Equal(t, []string{busyReply, busyReply, "+OK\r\n"}, got)
		require.Equal(t, busyKilled(busyLoop, 1), busyRead(t, a))
	})
}
