package sessdb_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
	"github.com/stretchr/testify/require"
)

func sessB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// startSessServer serves db on 127.0.0.1 with an ephemeral port and returns
// its address; extra are more "--directive value" options.
func startSessServer(t *testing.T, db *sessdb.DB, extra ...string) string {
	t.Helper()
	args := append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", t.TempDir()}, extra...)
	cfg, err := config.Load(args)
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan struct{})
	go func() { _ = srv.Serve(); close(done) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return srv.Addr().String()
}

// sessRESP drives a server over RESP with go-redis (RESP3 and RESP2 clients).
type sessRESP struct {
	t      *testing.T
	addr   string
	r3, r2 *redis.Client
}

func newSessRESP(t *testing.T, db *sessdb.DB, extra ...string) *sessRESP {
	t.Helper()
	addr := startSessServer(t, db, extra...)
	r := &sessRESP{
		t:    t,
		addr: addr,
		r3:   redis.NewClient(&redis.Options{Addr: addr, Protocol: 3, DisableIdentity: true}),
		r2:   redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true}),
	}
	t.Cleanup(func() { _ = r.r3.Close(); _ = r.r2.Close() })
	return r
}

func (r *sessRESP) do(c *redis.Client, args ...any) (any, error) {
	return c.Do(context.Background(), args...).Result()
}

// sessMap turns a RESP3 map or a RESP2 flat array of pairs into a Go map.
func sessMap(t *testing.T, v any) map[string]any {
	t.Helper()
	out := map[string]any{}
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			out[k.(string)] = val
		}
	case []any:
		require.Zero(t, len(x)%2, "a flat array of pairs")
		for i := 0; i < len(x); i += 2 {
			out[x[i].(string)] = x[i+1]
		}
	default:
		t.Fatalf("not a map: %T %v", v, v)
	}
	return out
}

func (r *sessRESP) sessListIDs(user string) []string {
	out := []string{}
	for _, c := range []*redis.Client{r.r3, r.r2} {
		v, err := r.do(c, "SESS.LIST", user)
		require.NoError(r.t, err)
		var ids []string
		for _, e := range v.([]any) {
			ids = append(ids, sessMap(r.t, e)["id"].(string))
		}
		sort.Strings(ids)
		if c == r.r3 {
			out = append(out, ids...)
		} else {
			require.Equal(r.t, out, sessOrEmpty(ids), "RESP2 and RESP3 agree")
		}
	}
	return out
}

func (r *sessRESP) count(user string) int64 {
	n, err := r.r3.Do(context.Background(), "SESS.COUNT", user).Int64()
	require.NoError(r.t, err)
	return n
}

// sessRawConn sends commands as RESP bytes and reads replies as raw RESP text.
type sessRawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func sessDialRaw(t *testing.T, addr string) *sessRawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &sessRawConn{t: t, c: c, br: bufio.NewReaderSize(c, 1<<20)}
}

func sessEncode(args ...string) []byte {
	b := []byte(fmt.Sprintf("*%d\r\n", len(args)))
	for _, a := range args {
		b = append(b, fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)...)
	}
	return b
}

// cmd sends one command and returns its whole reply, bytes as sent.
func (r *sessRawConn) cmd(args ...string) string {
	r.t.Helper()
	_ = r.c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err := r.c.Write(sessEncode(args...))
	require.NoError(r.t, err)
	return r.reply()
}

func (r *sessRawConn) reply() string {
	r.t.Helper()
	line, err := r.br.ReadString('\n')
	require.NoError(r.t, err)
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return line
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return line
		}
		buf := make([]byte, n+2)
		_, err := sessReadFull(r.br, buf)
		require.NoError(r.t, err)
		return line + string(buf)
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		out := line
		for i := 0; i < n; i++ {
			out += r.reply()
		}
		return out
	}
	r.t.Fatalf("unexpected reply line %q", line)
	return ""
}

func sessReadFull(br *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := br.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func sessBulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func sessInt(n int64) string { return fmt.Sprintf(":%d\r\n", n) }

func newSessProtocolFixture(t *testing.T, extra ...string) (*sessdb.DB, *sessClock, *sessRESP) {
	t.Helper()
	clock := newSessClock()
	db := openSessDB(t, filepath.Join(t.TempDir(), "sessdb.db"), clock, sessdb.SessionOptions{})
	t.Cleanup(func() { _ = db.Close() })
	return db, clock, newSessRESP(t, db, extra...)
}

// Ensure that every SESS command works over RESP with a real client, in
// RESP3 and RESP2, with the documented replies.
func TestSessionProtocol_Commands(t *testing.T) {
	_, clock, r := newSessProtocolFixture(t)
	ctx := context.Background()
	for _, c := range []*redis.Client{r.r3, r.r2} {
		t0 := clock.Ms()
		user := fmt.Sprint("alice", c.Options().Protocol)
		tok, err := c.Do(ctx, "SESS.CREATE", user, "IDLE", "600", "ABSOLUTE", "3600", "LIMIT", "5", "META", "ip", "10.0.0.1", "ua", "curl/8").Text()
		require.NoError(t, err)
		require.Regexp(t, sessTokenShape, tok)

		v, err := r.do(c, "SESS.GET", tok, "NOTOUCH")
		require.NoError(t, err)
		require.Equal(t, map[string]any{
			"id": sessID(tok), "user": user, "created": t0, "last_seen": t0, "auth_time": t0,
			"idle_deadline": t0 + 600_000, "absolute_deadline": t0 + 3_600_000,
			"meta.ip": "10.0.0.1", "meta.ua": "curl/8",
		}, sessMap(t, v))

		n, err := c.Do(ctx, "SESS.SET", tok, "cart", "3", "theme", "dark").Int64()
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		n, err = c.Do(ctx, "SESS.DEL", tok, "theme", "nope").Int64()
		require.NoError(t, err)
		require.Equal(t, int64(1), n)

		clock.Add(time.Minute)
		v, err = r.do(c, "SESS.GET", tok)
		require.NoError(t, err)
		m := sessMap(t, v)
		require.Equal(t, clock.Ms(), m["last_seen"], "GET slides")
		require.Equal(t, clock.Ms()+600_000, m["idle_deadline"])
		require.Equal(t, "3", m["data.cart"])
		n, err = c.Do(ctx, "SESS.TOUCH", tok).Int64()
		require.NoError(t, err)
		require.Equal(t, int64(1), n)

		require.Equal(t, "OK", c.Do(ctx, "SESS.REAUTH", tok).Val())
		v, _ = r.do(c, "SESS.GET", tok, "notouch")
		require.Equal(t, clock.Ms()+3_600_000, sessMap(t, v)["absolute_deadline"])
		require.Equal(t, clock.Ms(), sessMap(t, v)["auth_time"])

		nt, err := c.Do(ctx, "SESS.ROTATE", tok, "GRACE", "30").Text()
		require.NoError(t, err)
		require.Regexp(t, sessTokenShape, nt)
		v, _ = r.do(c, "SESS.GET", tok, "NOTOUCH")
		require.Equal(t, sessID(nt), sessMap(t, v)["id"], "the old token reaches the new session in its grace")
		_, err = c.Do(ctx, "SESS.ROTATE", tok).Result()
		require.ErrorIs(t, err, redis.Nil)

		other, err := c.Do(ctx, "SESS.CREATE", user).Text()
		require.NoError(t, err)
		third, err := c.Do(ctx, "SESS.CREATE", user, "META", "ua", "phone").Text()
		require.NoError(t, err)
		list, err := r.do(c, "SESS.LIST", user)
		require.NoError(t, err)
		require.Len(t, list, 3)
		first := sessMap(t, list.([]any)[0])
		require.Equal(t, map[string]any{
			"id": sessID(nt), "created": t0, "last_seen": clock.Ms(),
			"idle_deadline": clock.Ms() + 600_000, "absolute_deadline": clock.Ms() + 3_600_000,
			"meta.ip": "10.0.0.1", "meta.ua": "curl/8",
		}, first, "LIST: oldest first, no user, no data, never a secret")
		require.Equal(t, int64(3), c.Do(ctx, "SESS.COUNT", user).Val())

		require.Equal(t, int64(1), c.Do(ctx, "SESS.REVOKEID", user, sessID(other)).Val())
		require.Equal(t, int64(0), c.Do(ctx, "SESS.REVOKEID", user, sessID(other)).Val())
		require.Equal(t, int64(0), c.Do(ctx, "SESS.REVOKEID", "mallory", sessID(third)).Val())
		require.Equal(t, int64(1), c.Do(ctx, "SESS.REVOKEUSER", user, "EXCEPT", nt).Val())
		require.Equal(t, int64(1), c.Do(ctx, "SESS.COUNT", user).Val())
		require.Equal(t, int64(1), c.Do(ctx, "SESS.REVOKE", tok).Val(), "revoking through the old token ends the session")
		require.Equal(t, int64(0), c.Do(ctx, "SESS.REVOKE", nt).Val())
		require.Equal(t, int64(0), c.Do(ctx, "SESS.TOUCH", nt).Val())
		require.Equal(t, int64(0), c.Do(ctx, "SESS.COUNT", user).Val())
		require.Equal(t, int64(0), c.Do(ctx, "SESS.REVOKEUSER", user).Val())
		list, err = r.do(c, "SESS.LIST", user)
		require.NoError(t, err)
		require.Empty(t, list)
		for _, cmd := range [][]any{{"SESS.GET", nt}, {"SESS.SET", nt, "a", "b"}, {"SESS.DEL", nt, "a"}, {"SESS.ROTATE", nt}, {"SESS.REAUTH", nt}} {
			_, err := c.Do(ctx, cmd...).Result()
			require.ErrorIs(t, err, redis.Nil, "%v", cmd)
		}
	}

	info, err := r.r2.Info(ctx, "sessions").Result()
	require.NoError(t, err)
	require.Contains(t, info, "# Sessions\r\n")
	for _, want := range []string{"sessions_live:0", "sessions_users:0", "sessions_created:6", "sessions_revoked:6", "sessions_expired:0"} {
		require.Contains(t, info, want+"\r\n")
	}
	require.Regexp(t, `sessions_invalid_lookups:[1-9]\d*\r\n`, info)
	all, err := r.r2.Info(ctx).Result()
	require.NoError(t, err)
	require.Contains(t, all, "# Sessions\r\n", "INFO's default sections include Sessions")

	// SESS commands join MULTI/EXEC and pipelines.
	pipe := r.r3.TxPipeline()
	create := pipe.Do(ctx, "SESS.CREATE", "bob")
	count := pipe.Do(ctx, "SESS.COUNT", "bob")
	_, err = pipe.Exec(ctx)
	require.NoError(t, err)
	require.Regexp(t, sessTokenShape, create.Val())
	require.Equal(t, int64(1), count.Val())
	p := r.r2.Pipeline()
	for i := 0; i < 10; i++ {
		p.Do(ctx, "SESS.CREATE", "bob")
	}
	p.Do(ctx, "SESS.COUNT", "bob")
	cmds, err := p.Exec(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(11), cmds[10].(*redis.Cmd).Val())
}

// Ensure that SESS replies have the documented RESP2 and RESP3 shapes, byte
// for byte, and that null is $-1 in RESP2 and _ in RESP3.
func TestSessionProtocol_ReplyShapes(t *testing.T) {
	_, clock, r := newSessProtocolFixture(t)
	raw := sessDialRaw(t, r.addr)
	tok := raw.cmd("SESS.CREATE", "alice", "IDLE", "60", "ABSOLUTE", "0", "META", "ua", "x")
	require.Regexp(t, `^\$66\r\n[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\r\n$`, tok)
	tok = tok[5 : 5+66]
	id := sessID(tok)
	now := clock.Ms()
	_ = raw.cmd("SESS.SET", tok, "k", "v")
	pairs := sessBulk("id") + sessBulk(id) + sessBulk("user") + sessBulk("alice") +
		sessBulk("created") + sessInt(now) + sessBulk("last_seen") + sessInt(now) + sessBulk("auth_time") + sessInt(now) +
		sessBulk("idle_deadline") + sessInt(now+60_000) + sessBulk("absolute_deadline") + sessInt(0) +
		sessBulk("meta.ua") + sessBulk("x") + sessBulk("data.k") + sessBulk("v")
	require.Equal(t, "*18\r\n"+pairs, raw.cmd("SESS.GET", tok, "NOTOUCH"))
	listPairs := sessBulk("id") + sessBulk(id) + sessBulk("created") + sessInt(now) + sessBulk("last_seen") + sessInt(now) +
		sessBulk("idle_deadline") + sessInt(now+60_000) + sessBulk("absolute_deadline") + sessInt(0) + sessBulk("meta.ua") + sessBulk("x")
	require.Equal(t, "*1\r\n*12\r\n"+listPairs, raw.cmd("SESS.LIST", "alice"))
	require.Equal(t, "*0\r\n", raw.cmd("SESS.LIST", "nobody"))
	require.Equal(t, "$-1\r\n", raw.cmd("SESS.GET", "nope"))
	require.Equal(t, "$-1\r\n", raw.cmd("SESS.ROTATE", "nope"))
	require.Equal(t, "$-1\r\n", raw.cmd("SESS.REAUTH", "nope"))
	require.Equal(t, ":0\r\n", raw.cmd("SESS.TOUCH", "nope"))
	require.Equal(t, ":1\r\n", raw.cmd("SESS.COUNT", "alice"))

	require.True(t, strings.HasPrefix(raw.cmd("HELLO", "3"), "%"))
	require.Equal(t, "%9\r\n"+pairs, raw.cmd("SESS.GET", tok, "NOTOUCH"))
	require.Equal(t, "*1\r\n%6\r\n"+listPairs, raw.cmd("SESS.LIST", "alice"))
	require.Equal(t, "_\r\n", raw.cmd("SESS.GET", "nope"))
	require.Equal(t, "_\r\n", raw.cmd("SESS.SET", "nope", "a", "b"))
	require.Equal(t, "_\r\n", raw.cmd("SESS.DEL", "nope", "a"))
	require.Equal(t, "+OK\r\n", raw.cmd("SESS.REAUTH", tok))
	require.Equal(t, ":1\r\n", raw.cmd("SESS.REVOKE", tok))
	require.Equal(t, ":0\r\n", raw.cmd("SESS.REVOKE", tok))
}

// Ensure that each SESS error is reported in Redis's style: wrong arity,
// bad numbers, unknown options, oversized users and META, and the limit;
// and that a token of the wrong shape is the same nil as an unknown one.
func TestSessionProtocol_Errors(t *testing.T) {
	_, _, r := newSessProtocolFixture(t)
	raw := sessDialRaw(t, r.addr)
	tok := raw.cmd("SESS.CREATE", "alice")
	tok = tok[5 : 5+66]
	arity := func(name string) string {
		return "-ERR wrong number of arguments for '" + name + "' command\r\n"
	}
	const notInt = "-ERR value is not an integer or out of range\r\n"
	const syntax = "-ERR syntax error\r\n"
	manyMeta := []string{"SESS.CREATE", "alice", "META"}
	for i := 0; i <= sessdb.MaxSessionFields; i++ {
		manyMeta = append(manyMeta, fmt.Sprint("f", i), "v")
	}
	manyData := []string{"SESS.SET", tok}
	for i := 0; i <= sessdb.MaxSessionFields; i++ {
		manyData = append(manyData, fmt.Sprint("f", i), "v")
	}
	huge := strings.Repeat("x", sessdb.MaxFieldValueLen+1)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"SESS.CREATE"}, arity("sess.create")},
		{[]string{"SESS.GET"}, arity("sess.get")},
		{[]string{"SESS.TOUCH"}, arity("sess.touch")},
		{[]string{"SESS.TOUCH", tok, "x"}, arity("sess.touch")},
		{[]string{"SESS.SET", tok, "f"}, arity("sess.set")},
		{[]string{"SESS.SET", tok, "f", "v", "g"}, arity("sess.set")},
		{[]string{"SESS.DEL", tok}, arity("sess.del")},
		{[]string{"SESS.ROTATE"}, arity("sess.rotate")},
		{[]string{"SESS.REAUTH", tok, "x"}, arity("sess.reauth")},
		{[]string{"SESS.REVOKE"}, arity("sess.revoke")},
		{[]string{"SESS.REVOKEID", "alice"}, arity("sess.revokeid")},
		{[]string{"SESS.REVOKEUSER"}, arity("sess.revokeuser")},
		{[]string{"SESS.LIST"}, arity("sess.list")},
		{[]string{"SESS.COUNT", "a", "b"}, arity("sess.count")},

		{[]string{"SESS.CREATE", "alice", "IDLE", "abc"}, notInt},
		{[]string{"SESS.CREATE", "alice", "IDLE", "-1"}, notInt},
		{[]string{"SESS.CREATE", "alice", "IDLE", "1.5"}, notInt},
		{[]string{"SESS.CREATE", "alice", "IDLE", "99999999999999"}, notInt},
		{[]string{"SESS.CREATE", "alice", "ABSOLUTE", "01"}, notInt},
		{[]string{"SESS.CREATE", "alice", "LIMIT", "-1"}, notInt},
		{[]string{"SESS.CREATE", "alice", "LIMIT", "x"}, notInt},
		{[]string{"SESS.ROTATE", tok, "GRACE", "x"}, notInt},
		{[]string{"SESS.ROTATE", tok, "GRACE", "-5"}, notInt},

		{[]string{"SESS.CREATE", "alice", "BOGUS", "1"}, syntax},
		{[]string{"SESS.CREATE", "alice", "IDLE"}, syntax},
		{[]string{"SESS.CREATE", "alice", "META"}, syntax},
		{[]string{"SESS.CREATE", "alice", "META", "ip"}, syntax},
		{[]string{"SESS.CREATE", "alice", "META", "ip", "1", "ua"}, syntax},
		{[]string{"SESS.GET", tok, "EXTRA"}, syntax},
		{[]string{"SESS.GET", tok, "NOTOUCH", "x"}, syntax},
		{[]string{"SESS.ROTATE", tok, "GRACE"}, syntax},
		{[]string{"SESS.ROTATE", tok, "FOO", "1"}, syntax},
		{[]string{"SESS.REVOKEUSER", "alice", "EXCEPT"}, syntax},
		{[]string{"SESS.REVOKEUSER", "alice", "BUT", tok}, syntax},

		{[]string{"SESS.CREATE", ""}, "-ERR invalid user: must be 1 to 512 bytes\r\n"},
		{[]string{"SESS.CREATE", strings.Repeat("u", 513)}, "-ERR invalid user: must be 1 to 512 bytes\r\n"},
		{manyMeta, "-ERR too many session fields (max 64)\r\n"},
		{[]string{"SESS.CREATE", "alice", "META", "ua", huge}, "-ERR session field name or value too long (max 256 and 4096 bytes)\r\n"},
		{[]string{"SESS.CREATE", "alice", "META", strings.Repeat("k", 257), "v"}, "-ERR session field name or value too long (max 256 and 4096 bytes)\r\n"},
		{manyData, "-ERR too many session fields (max 64)\r\n"},
		{[]string{"SESS.SET", tok, "k", huge}, "-ERR session field name or value too long (max 256 and 4096 bytes)\r\n"},

		// Wrong-shaped tokens: the same nil as an unknown one.
		{[]string{"SESS.GET", "abc"}, "$-1\r\n"},
		{[]string{"SESS.GET", ""}, "$-1\r\n"},
		{[]string{"SESS.GET", strings.Repeat("A", 1<<20)}, "$-1\r\n"},
		{[]string{"SESS.GET", tok[:22] + ".!" + tok[25:]}, "$-1\r\n"},
		{[]string{"SESS.GET", tok + "x"}, "$-1\r\n"},
		{[]string{"SESS.GET", tok[:65] + map[bool]string{true: "C", false: "B"}[tok[65] == 'B']}, "$-1\r\n"},
		{[]string{"SESS.TOUCH", "abc"}, ":0\r\n"},
		{[]string{"SESS.SET", "abc", "f", "v"}, "$-1\r\n"},
		{[]string{"SESS.DEL", "abc", "f"}, "$-1\r\n"},
		{[]string{"SESS.ROTATE", "abc", "GRACE", "5"}, "$-1\r\n"},
		{[]string{"SESS.REAUTH", "abc"}, "$-1\r\n"},
		{[]string{"SESS.REVOKE", "abc"}, ":0\r\n"},
		{[]string{"SESS.REVOKEID", "alice", "abc"}, ":0\r\n"},
		{[]string{"SESS.REVOKEUSER", "alice", "EXCEPT", "abc", "x"}, syntax},
	}
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		if len(name) > 80 {
			name = name[:80]
		}
		require.Equal(t, c.want, raw.cmd(c.args...), name)
	}
	require.Equal(t, ":1\r\n", raw.cmd("SESS.COUNT", "alice"), "no failed command created or ended a session")
	require.Equal(t, ":0\r\n", raw.cmd("SESS.DEL", tok, "nothing"))

	// The limit, from the directives (CONFIG SET applies at once).
	require.Equal(t, "+OK\r\n", raw.cmd("CONFIG", "SET", "session-max-per-user", "1", "session-limit-policy", "refuse"))
	require.Equal(t, "-LIMIT too many sessions for user\r\n", raw.cmd("SESS.CREATE", "alice"))
	require.Equal(t, "-LIMIT too many sessions for user\r\n", raw.cmd("SESS.CREATE", "alice", "LIMIT", "1"))
	require.True(t, strings.HasPrefix(raw.cmd("SESS.CREATE", "alice", "LIMIT", "0"), "$66\r\n"), "LIMIT 0: no cap")
	require.True(t, strings.HasPrefix(raw.cmd("SESS.CREATE", "bob"), "$66\r\n"))
	require.Equal(t, "+OK\r\n", raw.cmd("CONFIG", "SET", "session-limit-policy", "evict-oldest"))
	require.True(t, strings.HasPrefix(raw.cmd("SESS.CREATE", "alice"), "$66\r\n"))
	require.Equal(t, ":1\r\n", raw.cmd("SESS.COUNT", "alice"), "evict-oldest made room")
	require.Equal(t, "+OK\r\n", raw.cmd("CONFIG", "SET", "session-idle-timeout", "0", "session-absolute-timeout", "0"))
	forever := raw.cmd("SESS.CREATE", "carol")[5 : 5+66]
	got := raw.cmd("SESS.GET", forever)
	require.Contains(t, got, sessBulk("idle_deadline")+sessInt(0))
	require.Contains(t, got, sessBulk("absolute_deadline")+sessInt(0))
}

// Ensure that the server applies the session directives as defaults and
// that expiry driven by the fake clock is visible over RESP.
func TestSessionProtocol_DefaultsAndExpiry(t *testing.T) {
	db, clock, r := newSessProtocolFixture(t, "--session-idle-timeout", "60", "--session-absolute-timeout", "120")
	raw := sessDialRaw(t, r.addr)
	now := clock.Ms()
	tok := raw.cmd("SESS.CREATE", "alice")[5 : 5+66]
	got := raw.cmd("SESS.GET", tok, "NOTOUCH")
	require.Contains(t, got, sessBulk("idle_deadline")+sessInt(now+60_000))
	require.Contains(t, got, sessBulk("absolute_deadline")+sessInt(now+120_000))
	clock.Add(59 * time.Second)
	require.Equal(t, ":1\r\n", raw.cmd("SESS.TOUCH", tok))
	clock.Add(59 * time.Second)
	require.Equal(t, ":1\r\n", raw.cmd("SESS.TOUCH", tok))
	clock.Add(2 * time.Second)
	require.Equal(t, "$-1\r\n", raw.cmd("SESS.GET", tok), "the absolute deadline holds")
	require.Equal(t, ":0\r\n", raw.cmd("SESS.COUNT", "alice"))
	db.Reap(0)
	info := raw.cmd("INFO", "sessions")
	require.Contains(t, info, "sessions_expired:1\r\n")
	require.Contains(t, info, "sessions_live:0\r\n")
}

// Ensure that a revocation acknowledged under load survives kill -9: after
// a restart no revoked token validates, every other token still does, and
// the index agrees with the sessions.
func TestSessions_CrashRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sessdb")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sessdb")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	data := filepath.Join(dir, "data")
	require.NoError(t, os.Mkdir(data, 0o755))

	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(bin, "--port", "0", "--bind", "127.0.0.1", "--dir", data, "--appendfsync", "always")
		ready := &sessReadyWriter{ready: make(chan string, 1)}
		cmd.Stdout = ready
		require.NoError(t, cmd.Start())
		select {
		case addr := <-ready.ready:
			return cmd, addr
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("the server did not start")
		}
		return nil, ""
	}
	proc, addr := start()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, PoolSize: 16, DisableIdentity: true})
	const n = 400
	tokens := make([]string, n)
	pipe := c.Pipeline()
	for i := range tokens {
		pipe.Do(ctx, "SESS.CREATE", fmt.Sprint("user", i%10))
	}
	cmds, err := pipe.Exec(ctx)
	require.NoError(t, err)
	for i, cmd := range cmds {
		tokens[i] = cmd.(*redis.Cmd).Val().(string)
	}

	// Revoke from 8 clients; kill -9 once 100 revocations were acknowledged.
	var mu sync.Mutex
	revoked := map[string]bool{}   // acknowledged
	attempted := map[string]bool{} // sent, outcome unknown
	var wg sync.WaitGroup
	killed := make(chan struct{})
	var once sync.Once
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 2 * w; i < n; i += 16 { // odd tokens are never revoked
				mu.Lock()
				attempted[tokens[i]] = true
				mu.Unlock()
				v, err := c.Do(ctx, "SESS.REVOKE", tokens[i]).Int64()
				if err != nil {
					return
				}
				mu.Lock()
				if v == 1 {
					revoked[tokens[i]] = true
				}
				if len(revoked) >= 100 {
					once.Do(func() { _ = proc.Process.Signal(syscall.SIGKILL); close(killed) })
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	once.Do(func() { _ = proc.Process.Signal(syscall.SIGKILL); close(killed) })
	<-killed
	_ = proc.Wait()
	_ = c.Close()
	require.GreaterOrEqual(t, len(revoked), 100)

	proc, addr = start()
	defer func() { _ = proc.Process.Kill(); _ = proc.Wait() }()
	c = redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	valid := map[string]int{}
	for i, tok := range tokens {
		v, err := c.Do(ctx, "SESS.GET", tok, "NOTOUCH").Result()
		switch {
		case revoked[tok]:
			require.ErrorIs(t, err, redis.Nil, "acknowledged revocation of token %d lost in the crash", i)
		case !attempted[tok]:
			require.NoError(t, err, "token %d was never revoked", i)
		}
		if err == nil {
			valid[sessMap(t, v)["user"].(string)]++
		}
	}
	for u := 0; u < 10; u++ {
		user := fmt.Sprint("user", u)
		cnt, err := c.Do(ctx, "SESS.COUNT", user).Int64()
		require.NoError(t, err)
		require.Equal(t, int64(valid[user]), cnt, "the index of %s agrees with the sessions", user)
		list, err := c.Do(ctx, "SESS.LIST", user).Slice()
		require.NoError(t, err)
		require.Len(t, list, valid[user])
	}
}

var sessServingRe = regexp.MustCompile(`serving (\S+), data in`)

// sessReadyWriter watches a server's log for its address and readiness.
type sessReadyWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	ready chan string
	once  sync.Once
}

func (w *sessReadyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	log := w.buf.String()
	if strings.Contains(log, "Ready to accept connections") {
		if m := sessServingRe.FindStringSubmatch(log); m != nil {
			w.once.Do(func() { w.ready <- m[1] })
		}
	}
	return len(p), nil
}

// Ensure that SESS.GET and SESS.LIST write metadata and data fields in name
// order, whatever order they were given and stored in.
func TestSessionProtocol_FieldsInNameOrder(t *testing.T) {
	_, _, r := newSessProtocolFixture(t)
	raw := sessDialRaw(t, r.addr)
	tok := raw.cmd("SESS.CREATE", "carol", "META", "zone", "eu", "ua", "x", "ip", "10.0.0.9")
	tok = tok[5 : 5+66]
	require.Equal(t, ":1\r\n", raw.cmd("SESS.SET", tok, "zz", "1"))
	require.Equal(t, ":1\r\n", raw.cmd("SESS.SET", tok, "aa", "2"))
	require.Equal(t, ":1\r\n", raw.cmd("SESS.SET", tok, "mm", "3"))
	got := raw.cmd("SESS.GET", tok)
	order := []string{"meta.ip", "meta.ua", "meta.zone", "data.aa", "data.mm", "data.zz"}
	last := -1
	for _, f := range order {
		i := strings.Index(got, sessBulk(f))
		require.Greater(t, i, last, "%s out of order in %q", f, got)
		last = i
	}
	require.Contains(t, got, sessBulk("meta.zone")+sessBulk("eu")+sessBulk("data.aa")+sessBulk("2"))
	list := raw.cmd("SESS.LIST", "carol")
	require.Contains(t, list, sessBulk("meta.ip")+sessBulk("10.0.0.9")+sessBulk("meta.ua")+sessBulk("x")+sessBulk("meta.zone")+sessBulk("eu"))
	require.NotContains(t, list, "data.")
}
