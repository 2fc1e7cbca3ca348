package sessdb_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
)

// jwtpServer is a sessdb served over RESP with a fake clock; restart
// reopens the same file, with other directives if given.
type jwtpServer struct {
	t     *testing.T
	path  string
	clock *manualClock
	db    *sessdb.DB
	srv   *server.Server
	done  chan struct{}
	r3    *redis.Client
	r2    *redis.Client
	addr  string
}

func newJWTPServer(t *testing.T, directives ...string) *jwtpServer {
	t.Helper()
	s := &jwtpServer{t: t, path: filepath.Join(t.TempDir(), "sessdb.db"), clock: newManualClock()}
	s.start(directives...)
	t.Cleanup(s.stop)
	return s
}

func (s *jwtpServer) start(directives ...string) {
	s.t.Helper()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", s.t.TempDir()}, directives...))
	require.NoError(s.t, err)
	s.db, err = sessdb.Open(s.path, &sessdb.Options{Now: s.clock.Now, ReapInterval: -1})
	require.NoError(s.t, err)
	s.srv = server.New(cfg, s.db, nil)
	require.NoError(s.t, s.srv.Listen())
	s.done = make(chan struct{})
	go func() { _ = s.srv.Serve(); close(s.done) }()
	s.addr = s.srv.Addr().String()
	s.r3 = redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 3, DisableIdentity: true})
	s.r2 = redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 2, DisableIdentity: true})
}

func (s *jwtpServer) stop() {
	if s.srv == nil {
		return
	}
	_ = s.r3.Close()
	_ = s.r2.Close()
	_ = s.srv.Close()
	<-s.done
	require.NoError(s.t, s.db.Close())
	s.srv = nil
}

func (s *jwtpServer) restart(directives ...string) {
	s.stop()
	s.start(directives...)
}

func (s *jwtpServer) do(args ...any) (any, error) {
	return s.r3.Do(context.Background(), args...).Result()
}

func (s *jwtpServer) str(args ...any) string {
	s.t.Helper()
	v, err := s.do(args...)
	require.NoError(s.t, err, "%v", args)
	out, ok := v.(string)
	require.True(s.t, ok, "%v: %#v", args, v)
	return out
}

// verifyErr runs SESS.VERIFY and returns its error text ("" when it passed).
func (s *jwtpServer) verifyErr(token string, extra ...any) string {
	s.t.Helper()
	_, err := s.do(append([]any{"SESS.VERIFY", token}, extra...)...)
	if err == nil {
		return ""
	}
	return err.Error()
}

// raw sends one command as RESP and returns the raw reply line.
func (s *jwtpServer) raw(args ...string) string {
	s.t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(s.t, err)
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_, err = conn.Write([]byte(b.String()))
	require.NoError(s.t, err)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(s.t, err)
	return line
}

func jwtpMap(t *testing.T, v any) map[string]any {
	t.Helper()
	out := map[string]any{}
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			out[fmt.Sprint(k)] = val
		}
	case []any:
		require.Zero(t, len(x)%2)
		for i := 0; i < len(x); i += 2 {
			out[fmt.Sprint(x[i])] = x[i+1]
		}
	default:
		t.Fatalf("not a map: %#v", v)
	}
	return out
}

type jwks struct {
	Keys []map[string]string `json:"keys"`
}

func (s *jwtpServer) jwks() jwks {
	s.t.Helper()
	var set jwks
	require.NoError(s.t, json.Unmarshal([]byte(s.str("SESS.JWKS")), &set))
	return set
}

// Ensure that SESS.JWT, SESS.VERIFY, SESS.JWKS, SESS.KEYS and
// SESS.NOTBEFORE work from a real client in RESP3 and RESP2, with the
// documented replies and errors.
func TestJWTProtocol_Commands(t *testing.T) {
	s := newJWTPServer(t, "--jwt-issuer", "https://id.example", "--session-idle-timeout", "7200")
	tok := s.str("SESS.CREATE", "alice")
	signed := s.str("SESS.JWT", tok, "TTL", "120", "AUD", "api", "CLAIM", "role", "admin", "tenant", "t1")
	require.Len(t, strings.Split(signed, "."), 3)
	now := s.clock.Now().Unix()
	for _, c := range []*redis.Client{s.r3, s.r2} {
		v, err := c.Do(context.Background(), "SESS.VERIFY", signed, "AUD", "api").Result()
		require.NoError(t, err)
		m := jwtpMap(t, v)
		assert.Equal(t, "https://id.example", m["iss"])
		assert.Equal(t, "alice", m["sub"])
		assert.Equal(t, tok[:22], m["sid"])
		assert.Equal(t, "api", m["aud"])
		assert.Equal(t, now, m["iat"])
		assert.Equal(t, now, m["nbf"])
		assert.Equal(t, now+120, m["exp"])
		assert.Equal(t, "admin", m["role"])
		assert.Equal(t, "t1", m["tenant"])
		assert.Len(t, m, 11)
	}
	// The server's directives: default TTL 300, capped by jwt-max-ttl.
	v, err := s.do("SESS.VERIFY", s.str("SESS.JWT", tok, "TTL", "86400"))
	require.NoError(t, err)
	assert.Equal(t, now+3600, jwtpMap(t, v)["exp"])

	_, err = s.do("SESS.JWT", "no.such-token")
	require.ErrorIs(t, err, redis.Nil)
	assert.Equal(t, "$-1\r\n", s.raw("SESS.JWT", "no.such-token"))

	set := s.jwks()
	require.Len(t, set.Keys, 1)
	kid := set.Keys[0]["kid"]
	assert.Equal(t, []any{kid}, mustDo(t, s, "SESS.KEYS", "LIST"))
	newKid := s.str("SESS.KEYS", "ROTATE")
	assert.NotEqual(t, kid, newKid)
	assert.Equal(t, []any{newKid, kid}, mustDo(t, s, "SESS.KEYS", "LIST"))
	assert.Len(t, s.jwks().Keys, 2)

	assert.Equal(t, int64(0), mustDo(t, s, "SESS.NOTBEFORE", "alice"))
	assert.Equal(t, int64(1), mustDo(t, s, "SESS.REVOKEUSER", "alice"))
	assert.Equal(t, now+1, mustDo(t, s, "SESS.NOTBEFORE", "alice"))

	errs := []struct {
		args []string
		want string
	}{
		{[]string{"SESS.JWT", tok, "CLAIM", "sub", "bob"}, "-ERR reserved claim name: iss, sub, sid, iat, nbf, exp, jti and aud are set by sessdb\r\n"},
		{[]string{"SESS.JWT", tok, "CLAIM", "a"}, "-ERR syntax error\r\n"},
		{[]string{"SESS.JWT", tok, "TTL", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"SESS.JWT", tok, "TTL", "0"}, "-ERR value is out of range, must be positive\r\n"},
		{[]string{"SESS.JWT", tok, "NOPE", "1"}, "-ERR syntax error\r\n"},
		{[]string{"SESS.VERIFY", signed, "AUD"}, "-ERR syntax error\r\n"},
		{[]string{"SESS.JWT"}, "-ERR wrong number of arguments for 'sess.jwt' command\r\n"},
		{[]string{"SESS.KEYS", "NOPE"}, "-ERR unknown subcommand 'NOPE'. Try SESS.KEYS HELP.\r\n"},
		{[]string{"SESS.VERIFY", "not-a-jwt"}, "-INVALID malformed\r\n"},
	}
	for _, e := range errs {
		assert.Equal(t, e.want, s.raw(e.args...), "%v", e.args)
	}
}

func mustDo(t *testing.T, s *jwtpServer, args ...any) any {
	t.Helper()
	v, err := s.do(args...)
	require.NoError(t, err, "%v", args)
	return v
}

// Ensure that tokens from elsewhere and tokens that are no longer (or not
// yet) acceptable fail SESS.VERIFY with the reason naming the failed check.
func TestJWTProtocol_VerifyReasons(t *testing.T) {
	s := newJWTPServer(t, "--session-idle-timeout", "7200")
	tok := s.str("SESS.CREATE", "bob")
	good := s.str("SESS.JWT", tok, "TTL", "60", "AUD", "api")
	require.Equal(t, "", s.verifyErr(good))
	require.Equal(t, "", s.verifyErr(good, "AUD", "api"))

	key := s.jwks().Keys[0]
	pub, err := base64.RawURLEncoding.DecodeString(key["x"])
	require.NoError(t, err)
	now := s.clock.Now()
	claims := jwt.MapClaims{"iss": "sessdb", "sub": "bob", "sid": tok[:22], "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Unix() + 60}
	sign := func(m jwt.SigningMethod, k any, kid string) string {
		tk := jwt.NewWithClaims(m, claims)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		out, err := tk.SignedString(k)
		require.NoError(t, err)
		return out
	}
	_, stranger, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)

	assert.Equal(t, "INVALID alg", s.verifyErr(sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, key["kid"])))
	assert.Equal(t, "INVALID alg", s.verifyErr(sign(jwt.SigningMethodHS256, pub, key["kid"])), "HS256 keyed with the public key")
	assert.Equal(t, "INVALID alg", s.verifyErr(sign(jwt.SigningMethodHS256, []byte(key["x"]), key["kid"])), "HS256 keyed with the JWK's x")
	assert.Equal(t, "INVALID kid", s.verifyErr(sign(jwt.SigningMethodEdDSA, stranger, "someone-elses")))
	assert.Equal(t, "INVALID kid", s.verifyErr(sign(jwt.SigningMethodEdDSA, stranger, "")))
	assert.Equal(t, "INVALID signature", s.verifyErr(sign(jwt.SigningMethodEdDSA, stranger, key["kid"])))
	assert.Equal(t, "INVALID aud", s.verifyErr(good, "AUD", "billing"))

	s.clock.Advance(-10 * time.Second)
	assert.Equal(t, "INVALID nbf", s.verifyErr(good))
	s.clock.Advance(70 * time.Second)
	assert.Equal(t, "INVALID expired", s.verifyErr(good))
	assert.Equal(t, "-INVALID expired\r\n", s.raw("SESS.VERIFY", good))

	// Another issuer's token signed with this very key: restart with a new jwt-issuer.
	fresh := s.str("SESS.JWT", tok)
	s.restart("--session-idle-timeout", "7200", "--jwt-issuer", "https://other.example")
	assert.Equal(t, "INVALID iss", s.verifyErr(fresh))
}

// Ensure that a JWT verified through SESS.VERIFY fails on the very next
// request once its session is revoked, by SESS.REVOKE, SESS.REVOKEID or
// SESS.REVOKEUSER, and also once the session expires.
func TestJWTProtocol_RevocationIsImmediate(t *testing.T) {
	s := newJWTPServer(t)
	for _, revoke := range []func(tok string){
		func(tok string) { mustDo(t, s, "SESS.REVOKE", tok) },
		func(tok string) { mustDo(t, s, "SESS.REVOKEID", "carol", tok[:22]) },
		func(tok string) { mustDo(t, s, "SESS.REVOKEUSER", "carol") },
	} {
		tok := s.str("SESS.CREATE", "carol")
		signed := s.str("SESS.JWT", tok)
		require.Equal(t, "", s.verifyErr(signed))
		revoke(tok)
		assert.Equal(t, "INVALID revoked", s.verifyErr(signed))
		s.clock.Advance(2 * time.Second) // past the not-before of a REVOKEUSER
	}
	tok := s.str("SESS.CREATE", "carol", "IDLE", "100")
	signed := s.str("SESS.JWT", tok, "TTL", "300")
	v, err := s.do("SESS.VERIFY", signed)
	require.NoError(t, err)
	assert.Equal(t, s.clock.Now().Unix()+100, jwtpMap(t, v)["exp"], "capped by the idle deadline")
	s.clock.Advance(99 * time.Second)
	require.Equal(t, "", s.verifyErr(signed))
	s.clock.Advance(time.Second)
	assert.Equal(t, "INVALID expired", s.verifyErr(signed))
}

// Ensure that a rotation survives a restart, that tokens of the old key
// verify until it leaves the JWK Set, and that it leaves once every token it
// can have signed has expired.
func TestJWTProtocol_KeyRotationAcrossRestart(t *testing.T) {
	s := newJWTPServer(t, "--jwt-max-ttl", "600", "--session-idle-timeout", "86400")
	tok := s.str("SESS.CREATE", "dan")
	oldKid := s.jwks().Keys[0]["kid"]
	old := s.str("SESS.JWT", tok, "TTL", "600")
	newKid := s.str("SESS.KEYS", "ROTATE")

	s.restart("--jwt-max-ttl", "600", "--session-idle-timeout", "86400")
	assert.Equal(t, []any{newKid, oldKid}, mustDo(t, s, "SESS.KEYS", "LIST"))
	require.Equal(t, "", s.verifyErr(old))
	current := s.str("SESS.JWT", tok)
	v, err := s.do("SESS.VERIFY", current)
	require.NoError(t, err)
	assert.Equal(t, newKid, jwtpMap(t, v)["kid"])

	s.clock.Advance(599 * time.Second)
	assert.Len(t, s.jwks().Keys, 2)
	require.Equal(t, "", s.verifyErr(old))
	s.clock.Advance(time.Second)
	set := s.jwks()
	require.Len(t, set.Keys, 1)
	assert.Equal(t, newKid, set.Keys[0]["kid"])
	assert.Equal(t, "INVALID kid", s.verifyErr(old))
}

// Ensure that the JWT commands pipeline and run inside MULTI/EXEC.
func TestJWTProtocol_PipelineAndMulti(t *testing.T) {
	s := newJWTPServer(t)
	tok := s.str("SESS.CREATE", "erin")
	ctx := context.Background()
	cmds, err := s.r3.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "SESS.JWT", tok)
		p.Do(ctx, "SESS.KEYS", "ROTATE")
		p.Do(ctx, "SESS.JWT", tok)
		return nil
	})
	require.NoError(t, err)
	first, _ := cmds[0].(*redis.Cmd).Text()
	kid, _ := cmds[1].(*redis.Cmd).Text()
	second, _ := cmds[2].(*redis.Cmd).Text()
	for _, signed := range []string{first, second} {
		require.Equal(t, "", s.verifyErr(signed))
	}
	v, err := s.do("SESS.VERIFY", second)
	require.NoError(t, err)
	assert.Equal(t, kid, jwtpMap(t, v)["kid"], "the rotation took effect inside the transaction")
}

// Ensure that CONFIG GET shows the JWT and HTTP directives, hides the key
// passphrase and the client secrets once set, and CONFIG SET refuses them.
func TestJWTProtocol_ConfigHidesSecrets(t *testing.T) {
	t.Cleanup(sessdb.SetJWTKDFCost(1, 8*1024))
	s := newJWTPServer(t, "--jwt-key-passphrase", "pass-phrase-of-mine", "--http-client", "gw", "0123456789abcdef0123")
	v := mustDo(t, s, "CONFIG", "GET", "jwt-*")
	m := jwtpMap(t, v)
	assert.Equal(t, map[string]any{"jwt-alg": "EdDSA", "jwt-audience": "", "jwt-default-ttl": "300",
		"jwt-issuer": "sessdb", "jwt-key-passphrase": "(hidden)", "jwt-max-ttl": "3600"}, m)
	assert.Equal(t, "(hidden)", jwtpMap(t, mustDo(t, s, "CONFIG", "GET", "http-client"))["http-client"])
	assert.Equal(t, "127.0.0.1", jwtpMap(t, mustDo(t, s, "CONFIG", "GET", "http-bind"))["http-bind"])
	assert.Equal(t, "-ERR CONFIG SET failed (possibly related to argument 'jwt-max-ttl') - can't set immutable config\r\n",
		s.raw("CONFIG", "SET", "jwt-max-ttl", "10"))
	_, err := config.Load([]string{"--http-client", "gw", "short"})
	require.ErrorContains(t, err, "http-client secrets must be at least 16 bytes")
}
