package compat_test

// Ruby row of the compatibility suite (issue 3, "Rails redis-session-store /
// redis-rack"): the redis-rack gem's Rack::Session::Redis (on redis-store and
// redis-rb) wrapping a tiny Rack app, driven in-process with
// Rack::MockRequest by compat/ruby/session_flow.rb against an in-process
// sessdb. The script prints "PASS ..." lines and exits 1 with "FAIL ..." on
// the first failure.
//
// Versions verified (Debian 12 packages): ruby 3.1.2, ruby-rack 2.2.22,
// ruby-redis-rack 2.1.2, ruby-redis-store 1.9.0, ruby-redis (redis-rb) 4.8.0.
//
// What the store sends (captured with MONITOR on redis-server): GET (private
// id "2::<sha256>", then the legacy public id on a miss), SETEX key 1234
// (every request: expire_after forces a write), DEL public id + DEL private
// id (renew, drop, destroy), and MULTI / SETNX / EXPIRE / EXEC from
// redis-store's setnx-with-TTL (generate_unique_sid). No SELECT for db 0, no
// HELLO, no PING.
//
// CI needs: apt-get install -y ruby ruby-redis-rack ruby-rack

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rubyRequire returns the ruby binary, or skips the test when ruby or the
// redis-rack library is missing.
func rubyRequire(t *testing.T) string {
	t.Helper()
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		t.Skip("ruby not installed (CI: apt-get install -y ruby ruby-redis-rack ruby-rack); skipping redis-rack session tests")
	}
	out, err := exec.Command(ruby, "-e", `require "rack"; require "rack/session/redis"`).CombinedOutput()
	if err != nil {
		t.Skipf("ruby cannot load rack/session/redis (CI: apt-get install -y ruby-redis-rack ruby-rack); skipping redis-rack session tests: %v\n%s", err, out)
	}
	return ruby
}

// rubyRunFlow runs session_flow.rb against the sessdb at addr and fails the
// test on a non-zero exit. The script's output is always logged.
func rubyRunFlow(t *testing.T, ruby, addr string) {
	t.Helper()
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		t.Fatalf("bad address %q", addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ruby, filepath.Join("ruby", "session_flow.rb"), port)
	out, err := cmd.CombinedOutput()
	t.Logf("ruby session_flow.rb %s:\n%s", port, out)
	if ctx.Err() != nil {
		t.Fatal("session_flow.rb timed out")
	}
	if err != nil {
		t.Fatalf("session_flow.rb failed: %v", err)
	}
	if !strings.Contains(string(out), "PASS redis-rack session flow done") {
		t.Fatal("session_flow.rb exited 0 without its final PASS line")
	}
}

func TestRubyRedisRackSession(t *testing.T) {
	ruby := rubyRequire(t)
	rubyRunFlow(t, ruby, startSessdb(t))
}
