package compat_test

// The real redis-cli binary (Debian redis-tools) against an in-process sessdb
// (issue 3, "The compatibility suite", redis-cli row): --scan, -3, --pipe
// mass insertion, COMMAND DOCS and interactive hints. Where redis-server is
// installed, the same redis-cli invocation against a throwaway real Redis
// (--save '' --appendonly no on a free port) is the reference output.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func rediscliPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools); skipping the redis-cli compatibility tests")
	}
	return p
}

func rediscliPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}

// rediscliRun runs redis-cli with args and stdin, returning stdout; a
// non-zero exit fails the test with stderr.
func rediscliRun(t *testing.T, stdin io.Reader, args ...string) string {
	t.Helper()
	cmd := exec.Command(rediscliPath(t), args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "redis-cli %v: %s", args, errb.String())
	return out.String()
}

// rediscliRealRedis starts a throwaway redis-server on a free port, or
// returns "" when redis-server is not installed.
func rediscliRealRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Log("redis-server not installed: comparing against the outputs real Redis is known to give")
		return ""
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, l.Close())
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + port
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		require.True(t, time.Now().Before(deadline), "redis-server did not answer PING on %s", addr)
		time.Sleep(20 * time.Millisecond)
	}
	return addr
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	sort.Strings(lines)
	return lines
}

func TestRedisCliScan(t *testing.T) {
	rediscliPath(t)
	addr := startSessdb(t)
	c := newGoRedis(t, addr, 2, 0, "")
	ctx := context.Background()
	var want []string
	for i := 0; i < 250; i++ {
		k := fmt.Sprintf("k:%d", i)
		want = append(want, k)
		require.NoError(t, c.Set(ctx, k, i, 0).Err())
	}
	require.NoError(t, c.Set(ctx, "other", "x", 0).Err())
	require.NoError(t, c.HSet(ctx, "k-not", "f", "v").Err())
	require.NoError(t, c.SAdd(ctx, "kk:1", "m").Err())
	sort.Strings(want)
	port := rediscliPort(t, addr)
	// 250 matching keys take several SCAN round trips at the default COUNT
	// (--count only exists from redis-cli 7.2).
	require.Equal(t, want, sortedLines(rediscliRun(t, nil, "-p", port, "--scan", "--pattern", "k:*")))
	// Without a pattern: every key.
	require.Len(t, sortedLines(rediscliRun(t, nil, "-p", port, "--scan")), 253)
}

func TestRedisCliResp3HGetAll(t *testing.T) {
	rediscliPath(t)
	addr := startSessdb(t)
	real := rediscliRealRedis(t)
	fill := func(addr string) {
		c := newGoRedis(t, addr, 2, 0, "")
		require.NoError(t, c.HSet(context.Background(), "h", "f1", "v1", "f2", "v2", "f3", "v3").Err())
	}
	fill(addr)
	if real != "" {
		fill(real)
	}
	// --no-raw forces the formatted (tty) output; without it redis-cli prints
	// the raw form because stdout is a pipe.
	run := func(addr string, args ...string) string {
		return rediscliRun(t, nil, append([]string{"-3", "-p", rediscliPort(t, addr)}, args...)...)
	}
	// Formatted map: `N# "field" => "value"`, numbered in the order sent.
	got := run(addr, "--no-raw", "HGETALL", "h")
	lineRE := regexp.MustCompile(`^([123])# "(f[123])" => "(v[123])"$`)
	var fields []string
	for i, line := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
		m := lineRE.FindStringSubmatch(line)
		require.NotNil(t, m, "line %q of %q", line, got)
		require.Equal(t, strconv.Itoa(i+1), m[1])
		require.Equal(t, "v"+m[2][1:], m[3])
		fields = append(fields, m[2])
	}
	require.ElementsMatch(t, []string{"f1", "f2", "f3"}, fields)
	require.Equal(t, "(empty hash)\n", run(addr, "--no-raw", "HGETALL", "missing"))
	raw := run(addr, "HGETALL", "h")
	require.ElementsMatch(t, []string{"f1 v1", "f2 v2", "f3 v3"}, sortedLines(raw))
	if real == "" {
		return
	}
	// Same redis-cli, real Redis: identical lines; the order may differ
	// (Redis keeps a small hash in insertion order, sessdb does not).
	want := run(real, "--no-raw", "HGETALL", "h")
	stripIdx := func(s string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			out = append(out, regexp.MustCompile(`^\d+# `).ReplaceAllString(l, ""))
		}
		sort.Strings(out)
		return out
	}
	require.Equal(t, stripIdx(want), stripIdx(got))
	if want != got {
		t.Logf("field order differs (allowed; Redis gives no order guarantee for HGETALL):\nredis-server:\n%ssessdb:\n%s", want, got)
	}
	require.Equal(t, run(real, "--no-raw", "HGETALL", "missing"), run(addr, "--no-raw", "HGETALL", "missing"))
	require.Equal(t, sortedLines(run(real, "HGETALL", "h")), sortedLines(raw))
	for _, args := range [][]string{
		{"--no-raw", "HSET", "h", "f4", "v4"},
		{"--no-raw", "HGET", "h", "f4"},
		{"--no-raw", "HGET", "h", "nope"},
		{"--no-raw", "HLEN", "h"},
		{"--no-raw", "CONFIG", "GET", "notify-keyspace-events"},
		{"--no-raw", "TTL", "h"},
	} {
		require.Equal(t, run(real, args...), run(addr, args...), "redis-cli -3 %v", args)
	}
}

func TestRedisCliPipe(t *testing.T) {
	rediscliPath(t)
	addr := startSessdb(t)
	const n = 10000
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		k, v := fmt.Sprintf("pipe:%d", i), fmt.Sprintf("value-%d", i)
		fmt.Fprintf(&buf, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
	}
	check := func(addr string) {
		out := rediscliRun(t, bytes.NewReader(buf.Bytes()), "-p", rediscliPort(t, addr), "--pipe")
		require.Contains(t, out, "All data transferred. Waiting for the last reply...")
		require.Contains(t, out, "Last reply received from server.")
		require.Contains(t, out, "errors: 0, replies: 10000")
		c := newGoRedis(t, addr, 2, 0, "")
		require.EqualValues(t, n, c.DBSize(context.Background()).Val())
		require.Equal(t, "value-9999", c.Get(context.Background(), "pipe:9999").Val())
	}
	check(addr)
	if real := rediscliRealRedis(t); real != "" {
		check(real)
	}
	// An error in the stream is counted and printed, and the exit status is
	// 1, as against Redis.
	bad := "*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n*1\r\n$7\r\nNOSUCHC\r\n"
	cmd := exec.Command(rediscliPath(t), "-p", rediscliPort(t, addr), "--pipe")
	cmd.Stdin = strings.NewReader(bad)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 1, exit.ExitCode())
	require.Contains(t, out.String(), "errors: 1, replies: 2")
	require.Contains(t, out.String()+errb.String(), "ERR unknown command 'NOSUCHC'")
}

func TestRedisCliCommandDocs(t *testing.T) {
	rediscliPath(t)
	addr := startSessdb(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := newGoRedis(t, addr, proto, 0, "")
		cmds := []string{"get", "set", "hgetall", "expire", "del", "zadd", "subscribe", "eval"}
		args := []interface{}{"COMMAND", "DOCS"}
		for _, name := range cmds {
			args = append(args, name)
		}
		res, err := c.Do(ctx, args...).Result()
		require.NoError(t, err)
		docs := map[string]interface{}{}
		switch v := res.(type) {
		case map[interface{}]interface{}:
			for k, d := range v {
				docs[k.(string)] = d
			}
		case []interface{}:
			require.Zero(t, len(v)%2)
			for i := 0; i < len(v); i += 2 {
				docs[v[i].(string)] = v[i+1]
			}
		default:
			t.Fatalf("COMMAND DOCS reply is %T", res)
		}
		for _, name := range cmds {
			d, ok := docs[name]
			require.True(t, ok, "COMMAND DOCS has %q (RESP%d)", name, proto)
			summary := ""
			switch dv := d.(type) {
			case map[interface{}]interface{}:
				summary, _ = dv["summary"].(string)
			case []interface{}:
				for i := 0; i+1 < len(dv); i += 2 {
					if dv[i] == "summary" {
						summary, _ = dv[i+1].(string)
					}
				}
			}
			require.NotEmpty(t, summary, "summary of %q (RESP%d)", name, proto)
		}
		// All commands, no arguments: what interactive redis-cli asks for.
		all, err := c.Do(ctx, "COMMAND", "DOCS").Result()
		require.NoError(t, err)
		switch v := all.(type) {
		case map[interface{}]interface{}:
			require.Greater(t, len(v), 100)
		case []interface{}:
			require.Greater(t, len(v), 200)
		}
	}
	out := rediscliRun(t, nil, "-p", rediscliPort(t, addr), "COMMAND", "DOCS", "get")
	require.NotEmpty(t, out)
	require.Contains(t, out, "summary")
	require.Contains(t, out, "get\n")
}

// rediscliTTY drives interactive redis-cli under script(1), which gives it a
// pseudo-terminal, and waits (bounded) for output to show up.
type rediscliTTY struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   bytes.Buffer
	mark  int
}

func (p *rediscliTTY) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func startRediscliTTY(t *testing.T, cli, port string) *rediscliTTY {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed (bsdutils); cannot drive interactive redis-cli")
	}
	p := &rediscliTTY{t: t}
	// stty gives the pty a size so linenoise does not query the cursor position.
	p.cmd = exec.Command(script, "-qc", "stty cols 200 rows 24; exec "+cli+" -p "+port, "/dev/null")
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { _ = p.stdin.Close(); _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	return p
}

// expect waits until re matches the output written since the last expect.
func (p *rediscliTTY) expect(re *regexp.Regexp) []string {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		s := p.out.String()[p.mark:]
		if loc := re.FindStringSubmatchIndex(s); loc != nil {
			m := re.FindStringSubmatch(s)
			p.mark += loc[1]
			p.mu.Unlock()
			return m
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			p.t.Fatalf("interactive redis-cli: %q not seen in %q", re, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *rediscliTTY) send(s string) {
	p.t.Helper()
	_, err := io.WriteString(p.stdin, s)
	require.NoError(p.t, err)
}

// hint types cmd and returns the grey hint redis-cli draws after it, or
// "(none)" if it draws none (an unknown command); then clears the line.
func (p *rediscliTTY) hint(cmd string) string {
	p.t.Helper()
	p.send(cmd)
	// linenoise redraws the whole line after each key; the redraw after the
	// last key ends with the cursor move to column len(prompt)+len(cmd).
	m := p.expect(regexp.MustCompile(regexp.QuoteMeta(cmd) + `(\x1b\[0;90;49m(.*?)\x1b\[0m)?\r\x1b\[\d+C`))
	p.send("\x15") // ctrl-U: clear the line
	p.expect(regexp.MustCompile(`> \r\x1b\[\d+C`))
	if m[1] == "" {
		return "(none)"
	}
	return strings.TrimSpace(m[2])
}

func TestRedisCliInteractiveHints(t *testing.T) {
	cli := rediscliPath(t)
	addr := startSessdb(t)
	port := rediscliPort(t, addr)
	p := startRediscliTTY(t, cli, port)
	p.expect(regexp.MustCompile(regexp.QuoteMeta("127.0.0.1:" + port + "> ")))

	// A command only sessdb has gets a hint: redis-cli built its hint table
	// from sessdb's COMMAND DOCS (against real Redis it draws none).
	require.NotEqual(t, "(none)", p.hint("sess.create "), "sess.create is known from COMMAND DOCS")
	got := map[string]string{}
	for _, cmd := range []string{"hgetall ", "set ", "expire "} {
		got[cmd] = p.hint(cmd)
	}
	// The session works: a command and its reply.
	p.send("set k v\r")
	p.expect(regexp.MustCompile(`OK`))
	p.send("get k\r")
	p.expect(regexp.MustCompile(`"v"`))
	p.send("quit\r")
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("interactive redis-cli did not exit on quit")
	}

	// The argument hints, compared with what the same redis-cli draws
	// against real Redis.
	want := map[string]string{"hgetall ": "key", "set ": "key value", "expire ": "key seconds"}
	if real := rediscliRealRedis(t); real != "" {
		rp := startRediscliTTY(t, cli, rediscliPort(t, real))
		rp.expect(regexp.MustCompile(regexp.QuoteMeta(real + "> ")))
		for cmd := range want {
			want[cmd] = rp.hint(cmd)
		}
		rp.send("quit\r")
	}
	t.Run("ArgumentHints", func(t *testing.T) {
		for cmd, w := range want {
			if !strings.HasPrefix(got[cmd], strings.Fields(w)[0]) {
				t.Errorf("interactive hint for %q: sessdb %q, real Redis %q (sessdb's COMMAND DOCS has no \"arguments\" entries, so redis-cli 7 has nothing to draw)", cmd, got[cmd], w)
			}
		}
	})
}
