package sessdb_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
	"github.com/stretchr/testify/require"
)

// wireTimeout bounds every read of a reply; it only expires when a server
// fails to answer or to close.
const wireTimeout = 5 * time.Second

// wireTarget is a server spoken to with raw bytes.
type wireTarget struct {
	name string
	addr string
}

// wireTargets starts sessdb in-process and, when redis-server is on PATH, a
// real Redis, both with args, so that every expectation is checked against
// Redis too.
func wireTargets(t *testing.T, args ...string) []wireTarget {
	t.Helper()
	targets := []wireTarget{{"sessdb", wireStartSessdb(t, args...)}}
	if addr := wireStartRedis(t, args...); addr != "" {
		targets = append(targets, wireTarget{"redis-server", addr})
	}
	return targets
}

func wireStartSessdb(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, args...))
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, cfg.DBFilename()), &sessdb.Options{Databases: cfg.Databases()})
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

// wireStartRedis starts redis-server without persistence and returns its
// address, or "" when redis-server is not installed.
func wireStartRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Log("redis-server not on PATH: expectations are checked against sessdb only")
		return ""
	}
	port := wireFreePort(t)
	cmd := exec.Command(bin, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir()}, args...)...)
	log := &wireLog{}
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	wireWaitReady(t, addr, log.String)
	return addr
}

// wireLog collects a child process's output for failure messages.
type wireLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *wireLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *wireLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wireFreePort returns a TCP port that was free a moment ago.
func wireFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// wireWaitReady polls addr with PING until it answers (or NOAUTH, which is
// an answer too).
func wireWaitReady(t *testing.T, addr string, log func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line == "+PONG\r\n" || strings.HasPrefix(line, "-NOAUTH") {
				return
			}
		}
		<-tick.C
	}
	t.Fatalf("server on %s did not answer PING; its log:\n%s", addr, log())
}

func wireDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wireTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// wireReadN reads exactly n reply bytes.
func wireReadN(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(wireTimeout)))
	b := make([]byte, n)
	got, err := io.ReadFull(c, b)
	require.NoError(t, err, "after %q", b[:got])
	return string(b)
}

// wireReadToClose reads until the server closes the connection; closed is false
// when it does not within wireTimeout.
func wireReadToClose(c net.Conn) (reply string, closed bool) {
	_ = c.SetReadDeadline(time.Now().Add(wireTimeout))
	b, err := io.ReadAll(c)
	// A close with unread input is a reset: still a close.
	return string(b), err == nil || errors.Is(err, syscall.ECONNRESET)
}

// wireCmd encodes a command as a RESP multibulk.
func wireCmd(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

func wireBulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

// wireCase sends raw bytes on a fresh connection and expects reply, then
// either a close or, on the still open connection, pong in answer to PING
// (which proves nothing else was sent).
type wireCase struct {
	name   string
	send   string
	reply  string
	closed bool
	pong   string // default "+PONG\r\n"
	// halfClose ends the client's side after send: the server must answer
	// reply and close.
	halfClose bool
}

func (tc wireCase) run(t *testing.T, target wireTarget) {
	t.Helper()
	c := wireDial(t, target.addr)
	_, err := c.Write([]byte(tc.send))
	if !tc.closed {
		require.NoError(t, err, "%s: %s", target.name, tc.name)
	}
	if tc.halfClose {
		require.NoError(t, c.(*net.TCPConn).CloseWrite())
	}
	if tc.closed || tc.halfClose {
		got, closed := wireReadToClose(c)
		require.Equal(t, tc.reply, got, "%s: %s", target.name, tc.name)
		require.True(t, closed, "%s: %s: connection left open", target.name, tc.name)
		return
	}
	got := wireReadN(t, c, len(tc.reply))
	require.Equal(t, tc.reply, got, "%s: %s", target.name, tc.name)
	pong := tc.pong
	if pong == "" {
		pong = "+PONG\r\n"
	}
	_, err = c.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	require.Equal(t, pong, wireReadN(t, c, len(pong)), "%s: %s: after the reply", target.name, tc.name)
}

const (
	wireInvalidMbulk  = "-ERR Protocol error: invalid multibulk length\r\n"
	wireInvalidBulk   = "-ERR Protocol error: invalid bulk length\r\n"
	wireUnbalanced    = "-ERR Protocol error: unbalanced quotes in request\r\n"
	wireNoAuth        = "-NOAUTH Authentication required.\r\n"
	wireUnauthMbulk   = "-ERR Protocol error: unauthenticated multibulk length\r\n"
	wireUnauthBulk    = "-ERR Protocol error: unauthenticated bulk length\r\n"
	wireTooBigInline  = "-ERR Protocol error: too big inline request\r\n"
	wireTooBigMbCount = "-ERR Protocol error: too big mbulk count string\r\n"
)

// Ensure that sessdb answers malformed, oversized, binary and interrupted
// input with Redis's exact bytes and closes exactly when Redis does.
func TestBadInput_Behaviour(t *testing.T) {
	targets := wireTargets(t, "--proto-max-bulk-len", "1mb")

	t.Run("malformed RESP", func(t *testing.T) {
		for _, tc := range []wireCase{
			{name: "non-numeric count", send: "*abc\r\n", reply: wireInvalidMbulk, closed: true},
			{name: "count with plus sign", send: "*+1\r\n$4\r\nPING\r\n", reply: wireInvalidMbulk, closed: true},
			{name: "count with leading zero", send: "*01\r\n$4\r\nPING\r\n", reply: wireInvalidMbulk, closed: true},
			{name: "count -0", send: "*-0\r\n", reply: wireInvalidMbulk, closed: true},
			{name: "count over INT_MAX", send: "*2147483648\r\n", reply: wireInvalidMbulk, closed: true},
			{name: "count string too big", send: "*" + strings.Repeat("1", 64<<10+1), reply: wireTooBigMbCount, closed: true},
			{name: "simple string for a bulk", send: "*2\r\n$3\r\nfoo\r\n+bar\r\n", reply: "-ERR Protocol error: expected '$', got '+'\r\n", closed: true},
			{name: "empty line for a bulk", send: "*1\r\n\r\n", reply: "-ERR Protocol error: expected '$', got ' '\r\n", closed: true},
			{name: "negative bulk length", send: "*1\r\n$-1\r\n", reply: wireInvalidBulk, closed: true},
			{name: "garbage bulk length", send: "*1\r\n$abc\r\n", reply: wireInvalidBulk, closed: true},
			{name: "bulk length with plus sign", send: "*1\r\n$+4\r\nPING\r\n", reply: wireInvalidBulk, closed: true},
			{name: "empty multibulk", send: "*0\r\n"},
			{name: "null multibulk", send: "*-1\r\n"},
			{name: "negative multibulk", send: "*-5\r\n*0\r\n"},
			{name: "bytes after CR are not checked", send: "*1\rX$4\r\nPINGxx", reply: "+PONG\r\n"},
			{name: "zero-length bulk", send: wireCmd("ECHO", ""), reply: "$0\r\n\r\n"},
			{name: "header then inline", send: "*1\r\n$4\r\nPING\r\nPING\r\n", reply: "+PONG\r\n+PONG\r\n"},
		} {
			for _, target := range targets {
				tc.run(t, target)
			}
		}
	})

	t.Run("inline commands", func(t *testing.T) {
		for _, tc := range []wireCase{
			{name: "PING", send: "PING\r\n", reply: "+PONG\r\n"},
			{name: "LF only", send: "PING\n", reply: "+PONG\r\n"},
			{name: "blank lines", send: "\r\n \r\n\n", reply: ""},
			{name: "quoted value", send: "SET inl \"a b\"\r\nGET inl\r\n", reply: "+OK\r\n" + wireBulk("a b")},
			{name: "tabs separate", send: "SET\tinl\tv\r\nGET inl\r\n", reply: "+OK\r\n" + wireBulk("v")},
			{name: "escapes", send: `ECHO "\x41\x00\n\t\"\q"` + "\r\n", reply: wireBulk("A\x00\n\t\"q")},
			{name: "single quotes", send: `ECHO 'it\'s \n'` + "\r\n", reply: wireBulk(`it's \n`)},
			{name: "quote inside a word", send: `ECHO a"b c"` + "\r\n", reply: wireBulk("ab c")},
			{name: "empty quotes", send: `ECHO ""` + "\r\n", reply: wireBulk("")},
			{name: "unbalanced double quote", send: "SET inl \"a b\r\n", reply: wireUnbalanced, closed: true},
			{name: "unbalanced single quote", send: "SET inl 'a b\r\n", reply: wireUnbalanced, closed: true},
			{name: "text after closing quote", send: "SET inl \"a\"b\r\n", reply: wireUnbalanced, closed: true},
			{name: "commands before the bad line run", send: "PING\r\nSET inl ok\r\nECHO \"x\r\nPING\r\n", reply: "+PONG\r\n+OK\r\n" + wireUnbalanced, closed: true},
			// Exactly one byte over: the server has read everything it is
			// sent, so its close is a clean one and the reply is not reset away.
			{name: "too big inline request", send: strings.Repeat("x", 64<<10+1), reply: wireTooBigInline, closed: true},
		} {
			for _, target := range targets {
				tc.run(t, target)
			}
		}
	})

	t.Run("proto-max-bulk-len", func(t *testing.T) {
		value := strings.Repeat("v", 1<<20)
		for _, tc := range []wireCase{
			// Answered on the header alone: the 2 MB never need to be sent.
			{name: "bulk over the limit", send: "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2000000\r\n", reply: wireInvalidBulk, closed: true},
			{name: "bulk at the limit", send: wireCmd("SET", "big", value) + wireCmd("STRLEN", "big"), reply: "+OK\r\n:1048576\r\n"},
			// Any count up to INT_MAX is accepted: the server waits for the
			// arguments and closes without a word when the client gives up.
			{name: "huge count, then the client gives up", send: "*2147483647\r\n$4\r\nPING\r\n", halfClose: true},
		} {
			for _, target := range targets {
				tc.run(t, target)
			}
		}
	})

	t.Run("pipelined commands then a protocol error", func(t *testing.T) {
		tc := wireCase{
			name:   "pipeline",
			send:   wireCmd("SET", "pipe", "1") + "INCR pipe\r\n" + wireCmd("GET", "pipe") + "*1\r\n$4\r\nPING\r\n*x\r\n" + wireCmd("INCR", "pipe"),
			reply:  "+OK\r\n:2\r\n" + wireBulk("2") + "+PONG\r\n" + wireInvalidMbulk,
			closed: true,
		}
		for _, target := range targets {
			tc.run(t, target)
			// The error ended the pipeline: the INCR after it never ran.
			wireCase{name: "after the error", send: wireCmd("GET", "pipe"), reply: wireBulk("2")}.run(t, target)
		}
	})

	t.Run("binary keys and values", func(t *testing.T) {
		key, val := "k\x00\r\n\xff*1\r\n", "v\x00\r\n$3\r\n\x00"
		hash, field, member, set := "h\x00\r\n", "f\r\n\x00", "m\x00\r\n", "s\r\n\x00"
		send := wireCmd("SET", key, val) + wireCmd("GET", key) +
			wireCmd("HSET", hash, field, val) + wireCmd("HGET", hash, field) + wireCmd("HGETALL", hash) +
			wireCmd("SADD", set, member) + wireCmd("SMEMBERS", set) + wireCmd("SISMEMBER", set, member) +
			wireCmd("KEYS", "k\x00\r\n\xff*") + wireCmd("EXISTS", key, hash, set) +
			// Inline escapes reach the same binary key.
			`GET "k\x00\r\n\xff*1\r\n"` + "\r\n"
		reply := "+OK\r\n" + wireBulk(val) +
			":1\r\n" + wireBulk(val) + "*2\r\n" + wireBulk(field) + wireBulk(val) +
			":1\r\n" + "*1\r\n" + wireBulk(member) + ":1\r\n" +
			"*1\r\n" + wireBulk(key) + ":3\r\n" +
			wireBulk(val)
		for _, target := range targets {
			wireCase{name: "binary round trip", send: send, reply: reply}.run(t, target)
		}
	})

	t.Run("client gone mid-command", func(t *testing.T) {
		for _, target := range targets {
			other := wireDial(t, target.addr)
			_, err := other.Write([]byte(wireCmd("SET", "survivor", "intact")))
			require.NoError(t, err)
			require.Equal(t, "+OK\r\n", wireReadN(t, other, 5))

			half := wireDial(t, target.addr)
			_, err = half.Write([]byte("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nhello"))
			require.NoError(t, err)
			require.NoError(t, half.Close())
			wireWaitClients(t, other, 1)

			_, err = other.Write([]byte(wireCmd("GET", "half") + wireCmd("GET", "survivor") + wireCmd("SET", "survivor", "again") + wireCmd("GET", "survivor")))
			require.NoError(t, err)
			want := "$-1\r\n" + wireBulk("intact") + "+OK\r\n" + wireBulk("again")
			require.Equal(t, want, wireReadN(t, other, len(want)), target.name)
			wireCase{name: "new client", send: wireCmd("GET", "half"), reply: "$-1\r\n"}.run(t, target)
		}
	})

	t.Run("unauthenticated client", func(t *testing.T) {
		mset := []string{"MSET"}
		for i := range 5 {
			mset = append(mset, fmt.Sprintf("k%d", i), "v")
		}
		del := []string{"DEL"}
		for i := range 9 {
			del = append(del, fmt.Sprintf("k%d", i))
		}
		big := strings.Repeat("b", 16385)
		targets := wireTargets(t, "--requirepass", "secret")
		for _, tc := range []wireCase{
			{name: "11 arguments", send: wireCmd(mset...), reply: wireUnauthMbulk, closed: true},
			{name: "10 arguments", send: wireCmd(del...), reply: wireNoAuth, pong: wireNoAuth},
			{name: "bulk of 16385", send: wireCmd("ECHO", big), reply: wireUnauthBulk, closed: true},
			{name: "bulk of 16384", send: wireCmd("ECHO", big[1:]), reply: wireNoAuth, pong: wireNoAuth},
			{name: "inline is not limited", send: "DEL a b c d e f g h i j k l\r\n", reply: wireNoAuth, pong: wireNoAuth},
			{name: "after a command", send: "PING\r\n" + wireCmd(mset...), reply: wireNoAuth + wireUnauthMbulk, closed: true},
			{name: "wrong password", send: "AUTH nope\r\n" + wireCmd(mset...), reply: "-WRONGPASS invalid username-password pair or user is disabled.\r\n" + wireUnauthMbulk, closed: true},
			// AUTH pipelined before the big command counts, as in Redis,
			// which runs each command before it parses the next.
			{name: "AUTH then 11 arguments", send: "AUTH secret\r\n" + wireCmd(mset...), reply: "+OK\r\n+OK\r\n"},
			{name: "AUTH then a big bulk", send: wireCmd("AUTH", "secret") + wireCmd("ECHO", big), reply: "+OK\r\n" + wireBulk(big)},
			{name: "RESET logs out", send: "AUTH secret\r\nRESET\r\n" + wireCmd(mset...), reply: "+OK\r\n+RESET\r\n" + wireUnauthMbulk, closed: true},
		} {
			for _, target := range targets {
				tc.run(t, target)
			}
		}
	})

	t.Run("client-query-buffer-limit", func(t *testing.T) {
		// Redis closes a client over the limit without a reply.
		value := strings.Repeat("q", 1500000)
		tc := wireCase{name: "bulk over the query buffer", send: wireCmd("SET", "q", value), closed: true}
		for _, target := range wireTargets(t, "--client-query-buffer-limit", "1mb", "--proto-max-bulk-len", "2mb") {
			tc.run(t, target)
		}
	})
}

// wireWaitClients polls INFO on c until the server counts want clients.
func wireWaitClients(t *testing.T, c net.Conn, want int) {
	t.Helper()
	deadline := time.Now().Add(wireTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	r := bufio.NewReader(c)
	for {
		_, err := c.Write([]byte(wireCmd("INFO", "clients")))
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(wireTimeout)))
		head, err := r.ReadString('\n')
		require.NoError(t, err)
		n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
		require.NoError(t, err, head)
		body := make([]byte, n+2)
		_, err = io.ReadFull(r, body)
		require.NoError(t, err)
		if strings.Contains(string(body), fmt.Sprintf("connected_clients:%d\r\n", want)) {
			require.Zero(t, r.Buffered())
			return
		}
		require.True(t, time.Now().Before(deadline), "clients never went down to %d:\n%s", want, body)
		<-tick.C
	}
}
