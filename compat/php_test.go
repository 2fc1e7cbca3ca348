// PHP row of the compatibility suite (issue 3): the phpredis native session
// handler (Debian php-cli + php-redis) with redis.session.locking_enabled=1,
// run as real PHP processes against an in-process sessdb. The PHP side lives
// in compat/php/session.php; it prints "PASS ..." lines and exits non-zero on
// failure.
//
// Versions verified: PHP 8.2.36 (Debian 12 php8.2-cli), phpredis 5.3.7
// (Debian php-redis 5.3.7+4.3.0-3).
//
// What phpredis 5.3.7 sends here (captured with MONITOR on redis-server):
// SET k_LOCK secret NX PX 30000 (retried while the lock is held), GET,
// SETEX, EXPIRE (lazy_write refresh), EXISTS (strict mode), DEL, ECHO
// (persistent-connection liveness check), GET k_LOCK before writing, and the
// unlock as EVALSHA b70c2384… followed by EVAL of the same script when the
// server answers -NOSCRIPT. (phpredis 5.3.7 has no GETEX; that is 6.x.)
//
// CI needs: apt-get install -y php-cli php-redis
package compat_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// phpUnlockLua is phpredis' lock release script (redis_session.c).
const phpUnlockLua = `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`

// phpStartServer starts a fresh in-process sessdb on a free loopback port.
func phpStartServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
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
		<-done
		require.NoError(t, db.Close())
	})
	return srv.Addr().String()
}

// phpRequire skips the test unless php with the redis extension is installed.
func phpRequire(t *testing.T) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php not installed (CI: apt-get install -y php-cli php-redis); skipping phpredis session tests")
	}
	out, err := exec.Command(php, "-m").Output()
	if err != nil {
		t.Skipf("php -m failed (%v); skipping phpredis session tests", err)
	}
	for _, m := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(m) == "redis" {
			return php
		}
	}
	t.Skip("php has no redis extension (CI: apt-get install -y php-redis); skipping phpredis session tests")
	return ""
}

func phpPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, ok := strings.Cut(addr, ":")
	require.True(t, ok, addr)
	return port
}

func phpCmd(ctx context.Context, php string, args ...string) *exec.Cmd {
	base := []string{"-d", "display_errors=stderr", "-d", "error_reporting=E_ALL", filepath.Join("php", "session.php")}
	return exec.CommandContext(ctx, php, append(base, args...)...)
}

// phpRun runs one session.php mode to completion and returns its output.
func phpRun(t *testing.T, php string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := phpCmd(ctx, php, args...).CombinedOutput()
	t.Logf("php session.php %s:\n%s", strings.Join(args, " "), out)
	require.NoError(t, err, "php session.php %s failed", strings.Join(args, " "))
	require.Contains(t, string(out), "PASS "+args[0]+" done")
	require.NotContains(t, string(out), "Warning")
	return string(out)
}

func phpNoLocks(t *testing.T, c *goredis.Client) {
	t.Helper()
	keys, err := c.Keys(context.Background(), "*_LOCK").Result()
	require.NoError(t, err)
	require.Empty(t, keys, "lock keys left behind")
}

func TestPHPRedisSessionHandler(t *testing.T) {
	php := phpRequire(t)
	ver, _ := exec.Command(php, "-r", `echo PHP_VERSION, " phpredis ", phpversion("redis");`).Output()
	t.Logf("PHP %s", ver)

	addr := phpStartServer(t)
	port := phpPort(t, addr)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	require.NoError(t, c.Ping(ctx).Err())

	sum := sha1.Sum([]byte(phpUnlockLua))
	unlockSHA := hex.EncodeToString(sum[:])
	require.Equal(t, "b70c2384248f88e6b75b9f89241a180f856ad852", unlockSHA)

	t.Run("basic", func(t *testing.T) {
		require.NoError(t, c.ScriptFlush(ctx).Err())
		phpRun(t, php, "basic", port)
		phpNoLocks(t, c)
		// Every close released the lock through the unlock script: EVALSHA
		// (NOSCRIPT on the first one), then EVAL, which caches it.
		ex, err := c.ScriptExists(ctx, unlockSHA).Result()
		require.NoError(t, err)
		require.Equal(t, []bool{true}, ex, "phpredis unlock script never ran")
	})

	t.Run("concurrent", func(t *testing.T) {
		require.NoError(t, c.ScriptFlush(ctx).Err())
		const sid = "phpconcurrent0123456789ab"
		runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()

		// Request 1 takes the lock, announces it, holds it for 1.5 s, writes.
		holder := phpCmd(runCtx, php, "holder", port, sid, "1500")
		var holderErr bytes.Buffer
		holder.Stderr = &holderErr
		stdout, err := holder.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, holder.Start())
		var holderOut bytes.Buffer
		sc := bufio.NewScanner(stdout)
		locked := false
		for sc.Scan() {
			holderOut.WriteString(sc.Text() + "\n")
			if sc.Text() == "LOCKED" {
				locked = true
				break
			}
		}
		if !locked {
			_ = holder.Wait()
			t.Fatalf("holder never took the lock:\n%s%s", holderOut.String(), holderErr.String())
		}
		n, err := c.Exists(ctx, "PHPREDIS_SESSION:"+sid+"_LOCK").Result()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "holder's lock key not in sessdb")

		// Request 2 on the same session must block until request 1 closes.
		waiter := phpCmd(runCtx, php, "waiter", port, sid)
		waiterDone := make(chan struct{})
		var waiterOut []byte
		var waiterErr error
		go func() {
			waiterOut, waiterErr = waiter.CombinedOutput()
			close(waiterDone)
		}()

		for sc.Scan() { // drain through the same scanner: it may hold buffered lines
			holderOut.WriteString(sc.Text() + "\n")
		}
		holderWaitErr := holder.Wait()
		t.Logf("php session.php holder:\n%s%s", holderOut.String(), holderErr.String())
		require.NoError(t, holderWaitErr, "holder failed")
		require.Contains(t, holderOut.String(), "PASS holder done")

		<-waiterDone
		t.Logf("php session.php waiter:\n%s", waiterOut)
		require.NoError(t, waiterErr, "waiter failed")
		require.Contains(t, string(waiterOut), "PASS waiter done")
		m := regexp.MustCompile(`waited (\d+)ms`).FindSubmatch(waiterOut)
		require.NotNil(t, m, "waiter did not report its wait")
		waited, _ := strconv.Atoi(string(m[1]))
		require.GreaterOrEqual(t, waited, 500, "waiter did not block on the holder's lock")

		phpNoLocks(t, c)
		ex, err := c.ScriptExists(ctx, unlockSHA).Result()
		require.NoError(t, err)
		require.Equal(t, []bool{true}, ex, "phpredis unlock script never ran")

		phpRun(t, php, "after", port, sid)
		phpNoLocks(t, c)
		n, err = c.Exists(ctx, "PHPREDIS_SESSION:"+sid).Result()
		require.NoError(t, err)
		require.Zero(t, n, "session_destroy left the key")
	})
}
