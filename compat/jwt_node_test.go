package compat_test

// Node row for JWTs (issue 5): a token from SESS.JWT verifies with jose
// 6.2.18 (pinned in compat/node/package-lock.json) on Node, which fetches the
// JWK Set from sessdb's HTTP face, as an API gateway would. The script is
// compat/node/jwt_verify.js; the test skips like the other Node tests when
// node or compat/node/node_modules/jose is missing.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/httpapi"
	"github.com/sessdb/sessdb/server"
)

// startSessdbHTTP serves a fresh sessdb over RESP and HTTP on loopback and
// returns both addresses.
func startSessdbHTTP(t *testing.T, args ...string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, args...))
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), nil)
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	j, err := srv.JWT()
	require.NoError(t, err)
	api, err := httpapi.New(httpapi.Options{Addrs: []string{"127.0.0.1:0"}, DB: db, JWT: j})
	require.NoError(t, err)
	require.NoError(t, api.Listen())
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, api.Shutdown(context.Background()))
		<-apiDone
		require.NoError(t, srv.Close())
		<-done
		require.NoError(t, db.Close())
	})
	return srv.Addr().String(), api.Addr().String()
}

// Ensure that SESS.JWT tokens verify with jose on Node against the served
// JWK Set, for EdDSA and ES256, and that jose refuses tampered tokens, a wrong
// audience and HS256 keyed with the public key.
func TestNodeJoseVerifiesSessJWT(t *testing.T) {
	node, dir := nodeRequire(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "jose")); err != nil {
		t.Skip("compat/node/node_modules/jose is missing; run (cd compat/node && npm ci --no-audit --no-fund)")
	}
	for _, alg := range []string{"EdDSA", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			respAddr, httpAddr := startSessdbHTTP(t, "--jwt-alg", alg, "--jwt-issuer", "https://sessdb.test")
			ctx := context.Background()
			c := newGoRedis(t, respAddr, 3, 0, "")
			tok, err := c.Do(ctx, "SESS.CREATE", "alice").Text()
			require.NoError(t, err)
			signed, err := c.Do(ctx, "SESS.JWT", tok, "AUD", "gateway").Text()
			require.NoError(t, err)

			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(cctx, node, "jwt_verify.js", "http://"+httpAddr+"/.well-known/jwks.json",
				signed, "https://sessdb.test", "gateway", "alice", tok[:22])
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			t.Logf("node jwt_verify.js (%s):\n%s", alg, out)
			require.NoError(t, err)
			kid, err := c.Do(ctx, "SESS.KEYS", "LIST").StringSlice()
			require.NoError(t, err)
			require.Contains(t, string(out), "PASS jwt "+alg+" "+kid[0]+"\n")
			require.Equal(t, 3, strings.Count(string(out), "refused "))
		})
	}
}
