// Python row of the compatibility suite (issue 3): Django cache-backed
// sessions (SESSION_ENGINE django.contrib.sessions.backends.cache) on
// django-redis, run as a real Python process against an in-process sessdb.
// The Python side lives in compat/python/django_sessions.py; it prints
// "PASS ..." lines and exits 1 with "FAIL ..." on failure.
//
// Versions verified: Python 3.11.2, Django 3.2.25, django-redis 5.2.0,
// redis-py 4.3.4 (Debian 12 python3-django, python3-django-redis,
// python3-redis).
//
// What django-redis 5.2 sends (captured with MONITOR on redis-server 7.0):
// SELECT 1 on connect, GET, SET key value PX ms (every timeout is sent in
// milliseconds, never EX/SETEX), SET ... PX ms NX (cache.add and session
// create), SET key value without expiry (timeout=None), EXISTS (has_key and
// the session key collision check), DEL, MGET (get_many),
// MULTI / SET ... PX / EXEC (set_many pipeline), PEXPIRE and PERSIST
// (touch). It does not use SETEX, SETNX or EXPIRE.
//
// The script is run with /usr/bin/python3 when that exists, because the
// default python3 on PATH may be a pyenv build that does not see Debian's
// dist-packages.
//
// CI needs: apt-get install -y python3-django python3-django-redis python3-redis
package compat_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pyRequire returns a python3 that can import django and django_redis, or
// skips the test.
func pyRequire(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("python3 not found (CI: apt-get install -y python3-django python3-django-redis python3-redis); skipping Django session tests")
		}
	}
	if out, err := exec.Command(py, "-c", "import django, django_redis").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import django/django_redis (CI: apt-get install -y python3-django python3-django-redis python3-redis); skipping Django session tests: %v\n%s", py, err, out)
	}
	return py
}

// pyPort returns the port part of a host:port address.
func pyPort(t *testing.T, addr string) string {
	t.Helper()
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		t.Fatalf("bad address %q", addr)
	}
	return port
}

func TestDjangoCacheSessions(t *testing.T) {
	py := pyRequire(t)
	addr := startSessdb(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("python", "django_sessions.py"), pyPort(t, addr))
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	t.Logf("%s python/django_sessions.py %s:\n%s", py, addr, out)
	if ctx.Err() != nil {
		t.Fatal("django_sessions.py timed out")
	}
	if err != nil {
		t.Fatalf("django_sessions.py failed: %v", err)
	}
	if !strings.Contains(string(out), "PASS django sessions done") {
		t.Fatal("django_sessions.py exited 0 without the final PASS line")
	}
}
