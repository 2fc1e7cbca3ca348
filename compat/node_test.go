package compat_test

// Node row of the compatibility suite (issue 3): express + express-session +
// connect-redis over the real node-redis and ioredis clients, driven by a
// scripted HTTP client in compat/node/session_flow.js. Each variant runs
// against a fresh in-process sessdb.
//
// Versions (pinned in compat/node/package-lock.json):
//   - node-redis (redis) 5.12.1, RESP2 and RESP3, with connect-redis 9.0.0
//   - node-redis (redis) 6.3.1, RESP3 (its default, HELLO 3) and RESP2, with connect-redis 9.0.0
//   - ioredis 5.11.1 (RESP2, INFO ready check) with connect-redis 7.1.1
//   - ioredis 6.0.0, RESP3 (its default, HELLO 3) and RESP2, with connect-redis 7.1.1
//   - express 5.3.0, express-session 1.19.0
//
// connect-redis 10 needs Node >= 22 (the suite targets Node 20), and
// connect-redis 9 calls node-redis-only APIs (scanIterator, mGet, SET with an
// options object), so ioredis goes through connect-redis 7, the last release
// that normalizes ioredis clients.
//
// The Node modules are installed by CI with
//   (cd compat/node && npm ci --no-audit --no-fund)
// and the test skips when node or compat/node/node_modules is missing.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeVariants are the variant names known to session_flow.js.
var nodeVariants = []string{
	"node-redis5-resp2",
	"node-redis5-resp3",
	"node-redis6-resp3",
	"node-redis6-resp2",
	"ioredis5",
	"ioredis6-resp3",
	"ioredis6-resp2",
}

// nodeRequire returns the node binary and the compat/node directory, or
// skips the test when either node or the installed modules are missing.
func nodeRequire(t *testing.T) (string, string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found in PATH; the Node compatibility suite needs Node >= 20")
	}
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "express-session")); err != nil {
		t.Skip("compat/node/node_modules is missing; run (cd compat/node && npm ci --no-audit --no-fund)")
	}
	return node, dir
}

// nodeRunFlow runs session_flow.js for one variant against addr and fails
// the test on a non-zero exit. The script's output is always logged.
func nodeRunFlow(t *testing.T, node, dir, addr, variant, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "session_flow.js", addr, variant)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SESSDB_PASSWORD="+password)
	out, err := cmd.CombinedOutput()
	t.Logf("node session_flow.js %s %s:\n%s", addr, variant, out)
	if ctx.Err() != nil {
		t.Fatalf("session_flow.js %s timed out", variant)
	}
	if err != nil {
		t.Fatalf("session_flow.js %s failed: %v", variant, err)
	}
	if !strings.Contains(string(out), "PASS "+variant+" ") {
		t.Fatalf("session_flow.js %s exited 0 without a PASS line", variant)
	}
}

func TestNodeSessionFlow(t *testing.T) {
	node, dir := nodeRequire(t)
	for _, variant := range nodeVariants {
		t.Run(variant, func(t *testing.T) {
			nodeRunFlow(t, node, dir, startSessdb(t), variant, "")
		})
	}
}

// TestNodeSessionFlowAuth repeats the flow with requirepass set: ioredis 5
// authenticates with AUTH before its INFO ready check, node-redis 6 and
// ioredis 6 with HELLO 3 AUTH default <password>.
func TestNodeSessionFlowAuth(t *testing.T) {
	node, dir := nodeRequire(t)
	for _, variant := range []string{"node-redis5-resp2", "node-redis6-resp3", "ioredis5", "ioredis6-resp3"} {
		t.Run(variant, func(t *testing.T) {
			nodeRunFlow(t, node, dir, startSessdb(t, "--requirepass", "node-s3cret"), variant, "node-s3cret")
		})
	}
}
