// Package compat_test runs the real, unpatched Go Redis clients and session
// libraries against an in-process sessdb (issue 3, "The compatibility suite",
// Go row). Each library creates, reads, refreshes and destroys sessions, and
// the TTLs it sets are checked (as ranges, without sleeping).
//
// Library versions tested:
//   - github.com/redis/go-redis/v9 v9.23.0 (RESP2 and RESP3)
//   - github.com/gomodule/redigo v1.9.3
//   - github.com/alexedwards/scs/v2 v2.9.0
//   - github.com/alexedwards/scs/redisstore v0.0.0-20251002162104-209de6e426de (redigo pool)
//   - github.com/alexedwards/scs/goredisstore v0.0.0-20250212122300-421ef1d8611c (go-redis v9)
//   - github.com/gorilla/sessions v1.4.0 through github.com/boj/redistore v1.4.1 (redigo)
//
// github.com/rbcervilla/redisstore/v9 (the go-redis based gorilla store) is
// not served by the module proxy this project can reach (403 "This module
// version is not available"), so gorilla sessions is driven through
// boj/redistore, the other gorilla redis store listed in issue 3.
package compat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/boj/redistore"
	redigo "github.com/gomodule/redigo/redis"
	"github.com/gorilla/sessions"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// startSessdb starts an in-process sessdb on a free loopback port and returns
// its address. Extra args are config directives ("--requirepass", "x").
func startSessdb(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, args...))
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), &sessdb.Options{Databases: cfg.Databases()})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		<-done
		require.NoError(t, db.Close())
	})
	return srv.Addr().String()
}

func newGoRedis(t *testing.T, addr string, protocol, db int, password string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: protocol, DB: db, Password: password})
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Ping(context.Background()).Err())
	return c
}

// requireTTL asserts the key's PTTL is within (max-slack, max].
func requireTTL(t *testing.T, c *goredis.Client, key string, max time.Duration) {
	t.Helper()
	ctx := context.Background()
	pttl, err := c.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.LessOrEqual(t, pttl, max, "PTTL of %q", key)
	require.Greater(t, pttl, max-5*time.Second, "PTTL of %q", key)
	ttl, err := c.TTL(ctx, key).Result()
	require.NoError(t, err)
	require.LessOrEqual(t, ttl, max, "TTL of %q", key)
	require.Greater(t, ttl, max-6*time.Second, "TTL of %q", key)
}

func requireGone(t *testing.T, c *goredis.Client, key string) {
	t.Helper()
	ctx := context.Background()
	n, err := c.Exists(ctx, key).Result()
	require.NoError(t, err)
	require.Zero(t, n, "key %q should be gone", key)
	_, err = c.Get(ctx, key).Result()
	require.ErrorIs(t, err, goredis.Nil)
	pttl, err := c.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Equal(t, time.Duration(-2), pttl)
}

// ---------------------------------------------------------------- go-redis v9

func TestGoRedisV9(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			addr := startSessdb(t, "--requirepass", "s3cret")
			ctx := context.Background()

			// Wrong password: a clean error, no connection.
			bad := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: proto, Password: "nope"})
			defer bad.Close()
			require.Error(t, bad.Ping(ctx).Err())

			c := newGoRedis(t, addr, proto, 3, "s3cret")
			require.Equal(t, "PONG", c.Ping(ctx).Val())

			// The negotiated protocol is the one asked for.
			hello, err := c.Do(ctx, "HELLO", proto).Result()
			require.NoError(t, err)
			switch proto {
			case 3:
				m, ok := hello.(map[interface{}]interface{})
				require.True(t, ok, "HELLO 3 reply is a map, got %T", hello)
				require.EqualValues(t, 3, m["proto"])
			case 2:
				s, ok := hello.([]interface{})
				require.True(t, ok, "HELLO 2 reply is an array, got %T", hello)
				require.Contains(t, s, "proto")
			}

			// Create.
			key := "sess:abc"
			require.NoError(t, c.Set(ctx, key, "data-1", 30*time.Minute).Err())
			requireTTL(t, c, key, 30*time.Minute)
			require.NoError(t, c.SetEx(ctx, "sess:ex", "v", 90*time.Second).Err())
			requireTTL(t, c, "sess:ex", 90*time.Second)
			require.NoError(t, c.Set(ctx, "sess:px", "v", 1500*time.Millisecond).Err()) // go-redis sends PX
			pttl := c.PTTL(ctx, "sess:px").Val()
			require.True(t, pttl > 0 && pttl <= 1500*time.Millisecond, "PTTL %v", pttl)

			// Read.
			v, err := c.Get(ctx, key).Result()
			require.NoError(t, err)
			require.Equal(t, "data-1", v)
			_, err = c.Get(ctx, "sess:missing").Result()
			require.ErrorIs(t, err, goredis.Nil)

			// Refresh: overwrite with a new TTL, then EXPIRE / PEXPIRE / KEEPTTL.
			require.NoError(t, c.Set(ctx, key, "data-2", time.Hour).Err())
			requireTTL(t, c, key, time.Hour)
			ok, err := c.Expire(ctx, key, 2*time.Hour).Result()
			require.NoError(t, err)
			require.True(t, ok)
			requireTTL(t, c, key, 2*time.Hour)
			ok, err = c.PExpire(ctx, key, 45*time.Minute).Result()
			require.NoError(t, err)
			require.True(t, ok)
			requireTTL(t, c, key, 45*time.Minute)
			require.NoError(t, c.Set(ctx, key, "data-3", goredis.KeepTTL).Err())
			requireTTL(t, c, key, 45*time.Minute)
			ok, err = c.Expire(ctx, "sess:missing", time.Minute).Result()
			require.NoError(t, err)
			require.False(t, ok)
			ok, err = c.SetNX(ctx, key, "other", time.Minute).Result()
			require.NoError(t, err)
			require.False(t, ok)
			got, err := c.GetEx(ctx, key, 10*time.Minute).Result()
			require.NoError(t, err)
			require.Equal(t, "data-3", got)
			requireTTL(t, c, key, 10*time.Minute)

			// No TTL on a plain SET; PERSIST removes one.
			require.NoError(t, c.Set(ctx, "plain", "v", 0).Err())
			require.Equal(t, time.Duration(-1), c.TTL(ctx, "plain").Val())

			// SCAN with MATCH as scs goredisstore's All() does.
			var keys []string
			var cursor uint64
			for {
				var page []string
				page, cursor, err = c.Scan(ctx, cursor, "sess:*", 0).Result()
				require.NoError(t, err)
				keys = append(keys, page...)
				if cursor == 0 {
					break
				}
			}
			require.ElementsMatch(t, []string{"sess:abc", "sess:ex", "sess:px"}, keys)
			require.Equal(t, []interface{}{"data-3", nil}, c.MGet(ctx, key, "sess:missing").Val())

			// Pipelines and MULTI/EXEC.
			cmds, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
				p.Set(ctx, "p1", "a", time.Minute)
				p.Get(ctx, "p1")
				p.TTL(ctx, "p1")
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, "a", cmds[1].(*goredis.StringCmd).Val())
			require.Greater(t, cmds[2].(*goredis.DurationCmd).Val(), 50*time.Second)
			cmds, err = c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				p.Set(ctx, "t1", "b", 0)
				p.PExpireAt(ctx, "t1", time.Now().Add(20*time.Minute))
				p.Get(ctx, "t1")
				return nil
			})
			require.NoError(t, err)
			require.True(t, cmds[1].(*goredis.BoolCmd).Val())
			require.Equal(t, "b", cmds[2].(*goredis.StringCmd).Val())
			requireTTL(t, c, "t1", 20*time.Minute)

			// The session lives in db 3 only.
			other := newGoRedis(t, addr, proto, 0, "s3cret")
			require.Zero(t, other.Exists(ctx, key).Val())

			// Destroy; EXPIRE with a non-positive TTL deletes.
			n, err := c.Del(ctx, key, "sess:missing").Result()
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
			requireGone(t, c, key)
			ok, err = c.Expire(ctx, "sess:ex", -1*time.Second).Result()
			require.NoError(t, err)
			require.True(t, ok)
			requireGone(t, c, "sess:ex")
		})
	}
}

// ---------------------------------------------------------------- redigo

func TestRedigo(t *testing.T) {
	addr := startSessdb(t, "--requirepass", "s3cret")
	ctx := context.Background()

	_, err := redigo.Dial("tcp", addr, redigo.DialPassword("wrong"))
	require.Error(t, err)

	c, err := redigo.Dial("tcp", addr, redigo.DialPassword("s3cret"), redigo.DialDatabase(2),
		redigo.DialReadTimeout(5*time.Second), redigo.DialWriteTimeout(5*time.Second))
	require.NoError(t, err)
	defer c.Close()
	check := newGoRedis(t, addr, 3, 2, "s3cret")

	pong, err := redigo.String(c.Do("PING"))
	require.NoError(t, err)
	require.Equal(t, "PONG", pong)

	// Create and read.
	ok, err := redigo.String(c.Do("SET", "s:1", []byte("payload"), "EX", 600))
	require.NoError(t, err)
	require.Equal(t, "OK", ok)
	requireTTL(t, check, "s:1", 10*time.Minute)
	b, err := redigo.Bytes(c.Do("GET", "s:1"))
	require.NoError(t, err)
	require.Equal(t, []byte("payload"), b)
	_, err = redigo.Bytes(c.Do("GET", "s:none"))
	require.ErrorIs(t, err, redigo.ErrNil)
	_, err = c.Do("SETEX", "s:2", 120, "x")
	require.NoError(t, err)
	requireTTL(t, check, "s:2", 2*time.Minute)
	ttl, err := redigo.Int(c.Do("TTL", "s:2"))
	require.NoError(t, err)
	require.True(t, ttl > 110 && ttl <= 120, "TTL %d", ttl)

	// Refresh.
	n, err := redigo.Int(c.Do("EXPIRE", "s:1", 3600))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	requireTTL(t, check, "s:1", time.Hour)
	n, err = redigo.Int(c.Do("EXPIRE", "s:none", 3600))
	require.NoError(t, err)
	require.Equal(t, 0, n)

	// Send/Flush/Receive pipeline.
	require.NoError(t, c.Send("SET", "p:1", "a", "PX", 30000))
	require.NoError(t, c.Send("GET", "p:1"))
	require.NoError(t, c.Send("PTTL", "p:1"))
	require.NoError(t, c.Send("EXISTS", "p:1", "p:none"))
	require.NoError(t, c.Flush())
	s, err := redigo.String(c.Receive())
	require.NoError(t, err)
	require.Equal(t, "OK", s)
	s, err = redigo.String(c.Receive())
	require.NoError(t, err)
	require.Equal(t, "a", s)
	pttl, err := redigo.Int64(c.Receive())
	require.NoError(t, err)
	require.True(t, pttl > 25000 && pttl <= 30000, "PTTL %d", pttl)
	n, err = redigo.Int(c.Receive())
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// MULTI/EXEC exactly as scs redisstore commits.
	expiry := time.Now().Add(15 * time.Minute).UnixMilli()
	require.NoError(t, c.Send("MULTI"))
	require.NoError(t, c.Send("SET", "m:1", []byte("tx")))
	require.NoError(t, c.Send("PEXPIREAT", "m:1", expiry))
	vals, err := redigo.Values(c.Do("EXEC"))
	require.NoError(t, err)
	require.Equal(t, []interface{}{"OK", int64(1)}, vals)
	requireTTL(t, check, "m:1", 15*time.Minute)

	// DISCARD, and an error inside EXEC is per command.
	require.NoError(t, c.Send("MULTI"))
	require.NoError(t, c.Send("SET", "m:2", "x"))
	_, err = c.Do("DISCARD")
	require.NoError(t, err)
	require.Zero(t, check.Exists(ctx, "m:2").Val())
	require.NoError(t, c.Send("MULTI"))
	require.NoError(t, c.Send("INCR", "m:1"))
	require.NoError(t, c.Send("GET", "m:1"))
	vals, err = redigo.Values(c.Do("EXEC"))
	require.NoError(t, err)
	require.Len(t, vals, 2)
	_, isErr := vals[0].(redigo.Error)
	require.True(t, isErr, "INCR on non-integer inside EXEC is an error reply, got %#v", vals[0])
	require.Equal(t, []byte("tx"), vals[1])

	// KEYS as scs redisstore's All() does.
	keys, err := redigo.Strings(c.Do("KEYS", "m:*"))
	require.NoError(t, err)
	require.Equal(t, []string{"m:1"}, keys)

	// Destroy.
	n, err = redigo.Int(c.Do("DEL", "s:1", "s:2", "s:none"))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	requireGone(t, check, "s:1")
	requireGone(t, check, "s:2")
}

// ---------------------------------------------------------------- scs

// scsApp is a small web app on a real scs.SessionManager.
func scsApp(sm *scs.SessionManager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "user", "alice")
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sm.GetString(r.Context(), "user"))
	})
	mux.HandleFunc("/promote", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.RenewToken(r.Context()); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		sm.Put(r.Context(), "role", "admin")
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("/role", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sm.GetString(r.Context(), "role"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "bye")
	})
	return sm.LoadAndSave(mux)
}

// get performs a GET with an explicit session cookie (empty: none) and returns
// the body and the session cookie the response set, if any.
func get(t *testing.T, base, path, cookieName, token string) (string, *http.Cookie) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: token})
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			return string(body), c
		}
	}
	return string(body), nil
}

func runSCSFlow(t *testing.T, store scs.Store, prefix string, check *goredis.Client) {
	ctx := context.Background()
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = 2 * time.Hour
	sm.IdleTimeout = 20 * time.Minute
	ts := httptest.NewServer(scsApp(sm))
	defer ts.Close()
	name := sm.Cookie.Name

	// Login creates the session; its key carries the idle timeout as TTL.
	body, c := get(t, ts.URL, "/login", name, "")
	require.Equal(t, "ok", body)
	require.NotNil(t, c, "login sets the session cookie")
	tok1 := c.Value
	requireTTL(t, check, prefix+tok1, 20*time.Minute)

	// The cookie is reused: the value comes back from the store.
	body, _ = get(t, ts.URL, "/whoami", name, tok1)
	require.Equal(t, "alice", body)
	requireTTL(t, check, prefix+tok1, 20*time.Minute)

	// Refresh: shorten the idle TTL in the store, a request with the
	// session re-commits it and restores the idle timeout.
	require.NoError(t, check.Expire(ctx, prefix+tok1, time.Minute).Err())
	requireTTL(t, check, prefix+tok1, time.Minute)
	body, _ = get(t, ts.URL, "/whoami", name, tok1)
	require.Equal(t, "alice", body)
	requireTTL(t, check, prefix+tok1, 20*time.Minute)

	// Privilege change: RenewToken gives a new token, the old one is dead.
	body, c = get(t, ts.URL, "/promote", name, tok1)
	require.Equal(t, "ok", body)
	require.NotNil(t, c)
	tok2 := c.Value
	require.NotEqual(t, tok1, tok2)
	requireGone(t, check, prefix+tok1)
	requireTTL(t, check, prefix+tok2, 20*time.Minute)
	body, _ = get(t, ts.URL, "/role", name, tok2)
	require.Equal(t, "admin", body)
	body, _ = get(t, ts.URL, "/whoami", name, tok2)
	require.Equal(t, "alice", body)
	body, _ = get(t, ts.URL, "/whoami", name, tok1)
	require.Equal(t, "", body, "old token no longer works")

	// Iterate lists the live sessions through the store's All() (KEYS or SCAN).
	var seen int
	require.NoError(t, sm.Iterate(ctx, func(ictx context.Context) error {
		if sm.GetString(ictx, "user") == "alice" {
			seen++
		}
		return nil
	}))
	require.Equal(t, 1, seen)

	// Logout destroys the session.
	body, c = get(t, ts.URL, "/logout", name, tok2)
	require.Equal(t, "bye", body)
	require.NotNil(t, c)
	require.True(t, c.MaxAge < 0 || c.Value == "", "logout expires the cookie")
	requireGone(t, check, prefix+tok2)
	body, _ = get(t, ts.URL, "/whoami", name, tok2)
	require.Equal(t, "", body)
}

func TestSCSRedisStore(t *testing.T) {
	addr := startSessdb(t, "--requirepass", "s3cret")
	pool := &redigo.Pool{
		MaxIdle:     4,
		IdleTimeout: time.Minute,
		Dial: func() (redigo.Conn, error) {
			return redigo.Dial("tcp", addr, redigo.DialPassword("s3cret"), redigo.DialDatabase(1))
		},
	}
	defer pool.Close()
	check := newGoRedis(t, addr, 3, 1, "s3cret")
	runSCSFlow(t, redisstore.New(pool), "scs:session:", check)
}

func TestSCSGoRedisStore(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			addr := startSessdb(t, "--requirepass", "s3cret")
			client := newGoRedis(t, addr, proto, 4, "s3cret")
			check := newGoRedis(t, addr, 3, 4, "s3cret")
			runSCSFlow(t, goredisstore.New(client), "scs:session:", check)
		})
	}
}

// ---------------------------------------------------------------- gorilla sessions

func TestGorillaSessionsRediStore(t *testing.T) {
	addr := startSessdb(t, "--requirepass", "s3cret")
	store, err := redistore.NewRediStoreWithDB(4, "tcp", addr, "", "s3cret", "5", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	defer store.Close()
	store.SetMaxAge(30 * 60)
	check := newGoRedis(t, addr, 3, 5, "s3cret")
	const name = "sid"
	const prefix = "session_"

	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, name)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s.Values["user"] = "alice"
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, s.ID)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, name)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		u, _ := s.Values["user"].(string)
		// Touch: saving again refreshes the TTL.
		if !s.IsNew {
			if err := s.Save(r, w); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		_, _ = io.WriteString(w, u)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, name)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s.Options.MaxAge = -1
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "bye")
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	fetch := func(path string) string {
		t.Helper()
		resp, err := client.Get(ts.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, b)
		return string(b)
	}
	u, _ := url.Parse(ts.URL)

	// Create.
	id := fetch("/login")
	require.NotEmpty(t, id)
	require.Len(t, jar.Cookies(u), 1)
	requireTTL(t, check, prefix+id, 30*time.Minute)
	raw, err := check.Get(context.Background(), prefix+id).Bytes()
	require.NoError(t, err)
	require.NotEmpty(t, raw)

	// Read, and refresh: shorten the TTL, the next save restores it.
	require.NoError(t, check.Expire(context.Background(), prefix+id, time.Minute).Err())
	require.Equal(t, "alice", fetch("/whoami"))
	requireTTL(t, check, prefix+id, 30*time.Minute)

	// Destroy with MaxAge(-1).
	require.Equal(t, "bye", fetch("/logout"))
	requireGone(t, check, prefix+id)
	require.Empty(t, jar.Cookies(u))
	require.Equal(t, "", fetch("/whoami"))

	// The Delete helper too.
	id = fetch("/login")
	requireTTL(t, check, prefix+id, 30*time.Minute)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range jar.Cookies(u) {
		req.AddCookie(c)
	}
	s, err := store.New(req, name)
	require.NoError(t, err)
	require.False(t, s.IsNew)
	require.Equal(t, "alice", s.Values["user"])
	require.NoError(t, store.Delete(req, httptest.NewRecorder(), s))
	requireGone(t, check, prefix+id)
	var _ sessions.Store = store
}
