package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/httpapi"
	"github.com/sessdb/sessdb/server"
)

const (
	clientID     = "gateway/1"
	clientSecret = "s3cret:with+odd&chars=0123456789"
)

// fixture is a sessdb serving RESP and HTTP on loopback, with the real clock.
type fixture struct {
	t    *testing.T
	db   *sessdb.DB
	srv  *server.Server
	api  *httpapi.Server
	rdb  *redis.Client
	base string
}

func newFixture(t *testing.T, mod func(*httpapi.Options), directives ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", dir}, directives...))
	require.NoError(t, err)
	db, err := sessdb.Open(filepath.Join(dir, "sessdb.db"), nil)
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan struct{})
	go func() { _ = srv.Serve(); close(done) }()
	j, err := srv.JWT()
	require.NoError(t, err)
	o := httpapi.Options{
		Addrs:   []string{"127.0.0.1:0"},
		DB:      db,
		JWT:     j,
		Clients: map[string]string{clientID: clientSecret},
		Metrics: srv.MetricsHandler(),
	}
	if mod != nil {
		mod(&o)
	}
	api, err := httpapi.New(o)
	require.NoError(t, err)
	require.NoError(t, api.Listen())
	apiDone := make(chan struct{})
	go func() { _ = api.Serve(); close(apiDone) }()
	f := &fixture{t: t, db: db, srv: srv, api: api, base: "http://" + api.Addr().String(),
		rdb: redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: 3, DisableIdentity: true})}
	t.Cleanup(func() {
		_ = f.rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = api.Shutdown(ctx)
		<-apiDone
		_ = srv.Close()
		<-done
		_ = db.Close()
	})
	return f
}

func (f *fixture) redis(args ...any) any {
	f.t.Helper()
	v, err := f.rdb.Do(context.Background(), args...).Result()
	require.NoError(f.t, err, "%v", args)
	return v
}

func (f *fixture) session(user string) (token, signed string) {
	f.t.Helper()
	token = f.redis("SESS.CREATE", user).(string)
	signed = f.redis("SESS.JWT", token, "AUD", "api", "CLAIM", "client_id", "web", "scope", "read").(string)
	return token, signed
}

// post sends a form with HTTP Basic credentials (form-encoded, as RFC 6749
// §2.3.1 says) or, when id is "", with a Bearer secret.
func (f *fixture) post(path, id, secret string, form url.Values) (*http.Response, map[string]any) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(form.Encode()))
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch {
	case id != "":
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	case secret != "":
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	var m map[string]any
	if len(body) > 0 {
		require.NoError(f.t, json.Unmarshal(body, &m), "%s", body)
	}
	return resp, m
}

func (f *fixture) get(path string, hdr ...string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.base+path, nil)
	require.NoError(f.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp, body
}

// Ensure that a token from SESS.JWT verifies with an independent library
// (go-jose) using the JWK Set fetched over HTTP, for EdDSA and ES256, and
// that the JWK Set is served with cache headers and revalidates by ETag.
func TestHTTPAPI_JWKSInteropWithGoJose(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, nil, "--jwt-alg", alg, "--jwt-max-ttl", "120")
			_, signed := f.session("alice")

			resp, body := f.get("/.well-known/jwks.json")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "application/jwk-set+json", resp.Header.Get("Content-Type"))
			assert.Equal(t, "public, max-age=120, must-revalidate", resp.Header.Get("Cache-Control"), "max-age capped by jwt-max-ttl")
			etag := resp.Header.Get("ETag")
			require.NotEmpty(t, etag)
			resp304, _ := f.get("/.well-known/jwks.json", "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, resp304.StatusCode)

			var set jose.JSONWebKeySet
			require.NoError(t, json.Unmarshal(body, &set))
			require.Len(t, set.Keys, 1)
			assert.True(t, set.Keys[0].IsPublic())

			jws, err := jose.ParseSigned(signed, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			require.NoError(t, err)
			require.Len(t, jws.Signatures, 1)
			kid := jws.Signatures[0].Header.KeyID
			keys := set.Key(kid)
			require.Len(t, keys, 1, "the token's kid is in the JWK Set")
			payload, err := jws.Verify(keys[0])
			require.NoError(t, err)
			var claims map[string]any
			require.NoError(t, json.Unmarshal(payload, &claims))
			assert.Equal(t, "alice", claims["sub"])
			assert.Equal(t, "sessdb", claims["iss"])
			assert.Equal(t, "api", claims["aud"])
			assert.NotEmpty(t, claims["sid"])

			// After a rotation the set holds both keys, and the new token's
			// kid resolves to the new one.
			f.redis("SESS.KEYS", "ROTATE")
			_, body = f.get("/.well-known/jwks.json")
			require.NoError(t, json.Unmarshal(body, &set))
			assert.Len(t, set.Keys, 2)
			_, signed2 := f.session("alice")
			jws, err = jose.ParseSigned(signed2, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			require.NoError(t, err)
			keys = set.Key(jws.Signatures[0].Header.KeyID)
			require.Len(t, keys, 1)
			_, err = jws.Verify(keys[0])
			require.NoError(t, err)
		})
	}
}

// Ensure that introspection follows RFC 7662: client authentication is
// required (401 with a challenge otherwise), an active JWT or session token
// is described, and anything else gets {"active":false} and nothing more.
func TestHTTPAPI_IntrospectionRFC7662(t *testing.T) {
	f := newFixture(t, nil)
	token, signed := f.session("bob")
	form := url.Values{"token": {signed}}

	resp, body := f.post("/oauth2/introspect", "", "", form)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Basic realm="sessdb"`, resp.Header.Get("WWW-Authenticate"))
	assert.Equal(t, "invalid_client", body["error"])
	resp, _ = f.post("/oauth2/introspect", clientID, "wrong-secret", form)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = f.post("/oauth2/introspect", "other", clientSecret, form)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the secret belongs to another client id")
	req, err := http.NewRequest(http.MethodPost, f.base+"/oauth2/introspect", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret) // not form-encoded, as curl -u sends it
	raw, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw.Body.Close()
	assert.Equal(t, http.StatusOK, raw.StatusCode, "Basic credentials without form-encoding")
	resp, _ = f.post("/oauth2/introspect", "", "wrong-secret", form)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="sessdb"`, resp.Header.Get("WWW-Authenticate"))
	resp, _ = f.get("/oauth2/introspect")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	resp, body = f.post("/oauth2/introspect", clientID, clientSecret, url.Values{})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_request", body["error"])

	resp, body = f.post("/oauth2/introspect", clientID, clientSecret, form)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, true, body["active"])
	assert.Equal(t, "jwt", body["token_type"])
	assert.Equal(t, "bob", body["sub"])
	assert.Equal(t, token[:22], body["sid"])
	assert.Equal(t, "web", body["client_id"])
	assert.Equal(t, "read", body["scope"])
	assert.Equal(t, "api", body["aud"])
	exp, iat := body["exp"].(float64), body["iat"].(float64)
	assert.InDelta(t, float64(time.Now().Unix()), iat, 5)
	assert.Equal(t, iat+300, exp)

	_, body = f.post("/oauth2/introspect", "", clientSecret, url.Values{"token": {token}})
	assert.Equal(t, true, body["active"], "Bearer client authentication")
	assert.Equal(t, "session", body["token_type"])
	assert.Equal(t, "bob", body["sub"])
	assert.Equal(t, token[:22], body["sid"])
	assert.InDelta(t, float64(time.Now().Unix()+1800), body["exp"], 5)

	inactive := map[string]any{"active": false}
	for _, tok := range []string{"unknown", token + "x", signed[:len(signed)-4] + "AAAA", "a.b.c"} {
		_, body = f.post("/oauth2/introspect", clientID, clientSecret, url.Values{"token": {tok}})
		assert.Equal(t, inactive, body, tok)
	}
	f.redis("SESS.REVOKE", token)
	for _, tok := range []string{token, signed} {
		_, body = f.post("/oauth2/introspect", clientID, clientSecret, url.Values{"token": {tok}})
		assert.Equal(t, inactive, body, "revoked: %s", tok)
	}
}

// Ensure that revocation follows RFC 7009: it ends the session behind a
// session token or a JWT's sid, answers 200 even for unknown tokens, and
// requires client authentication.
func TestHTTPAPI_RevocationRFC7009(t *testing.T) {
	f := newFixture(t, nil)
	token, signed := f.session("carol")
	resp, body := f.post("/oauth2/revoke", clientID, "nope", url.Values{"token": {token}})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "invalid_client", body["error"])
	assert.NotNil(t, f.redis("SESS.GET", token, "NOTOUCH"), "a refused request revokes nothing")

	resp, _ = f.post("/oauth2/revoke", clientID, clientSecret, url.Values{"token": {signed}, "token_type_hint": {"access_token"}})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err := f.rdb.Do(context.Background(), "SESS.GET", token).Result()
	require.ErrorIs(t, err, redis.Nil, "revoking the JWT ended its session")
	_, err = f.rdb.Do(context.Background(), "SESS.VERIFY", signed).Result()
	require.EqualError(t, err, "INVALID revoked")

	token2, _ := f.session("carol")
	resp, _ = f.post("/oauth2/revoke", "", clientSecret, url.Values{"token": {token2}})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = f.rdb.Do(context.Background(), "SESS.GET", token2).Result()
	require.ErrorIs(t, err, redis.Nil)

	for _, tok := range []string{token2, "unknown", "a.b.c"} {
		resp, _ = f.post("/oauth2/revoke", clientID, clientSecret, url.Values{"token": {tok}})
		assert.Equal(t, http.StatusOK, resp.StatusCode, tok)
	}
	resp, body = f.post("/oauth2/revoke", clientID, clientSecret, url.Values{})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_request", body["error"])
}

func scrape(t *testing.T, f *fixture) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := f.get("/metrics")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return fams
}

func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	fam := fams[name]
	if fam == nil {
		return 0
	}
next:
	for _, m := range fam.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// Ensure that /metrics parses with the Prometheus text parser and that its
// counters move with the traffic.
func TestHTTPAPI_MetricsMoveWithTraffic(t *testing.T) {
	f := newFixture(t, nil)
	before := scrape(t, f)
	for _, name := range []string{"sessdb_connected_clients", "sessdb_sessions_live", "sessdb_expiry_backlog",
		"sessdb_commit_batch_records", "sessdb_commit_duration_seconds", "sessdb_jwt_keys", "go_goroutines"} {
		assert.Contains(t, before, name)
	}
	for i := 0; i < 3; i++ {
		f.session("dora")
	}
	f.redis("SET", "k", "v")
	_, err := f.rdb.Do(context.Background(), "SESS.VERIFY", "junk").Result()
	require.Error(t, err)
	_, err = f.rdb.Do(context.Background(), "SESS.GET", "no.such").Result()
	require.ErrorIs(t, err, redis.Nil)
	after := scrape(t, f)

	d := func(name string, labels ...string) float64 {
		return value(after, name, labels...) - value(before, name, labels...)
	}
	assert.Equal(t, 3.0, d("sessdb_commands_total", "command", "sess.create", "result", "ok"))
	assert.Equal(t, 3.0, d("sessdb_commands_total", "command", "sess.jwt", "result", "ok"))
	assert.Equal(t, 1.0, d("sessdb_commands_total", "command", "sess.verify", "result", "error"))
	assert.Equal(t, 3.0, d("sessdb_command_duration_seconds", "command", "sess.create"))
	assert.Equal(t, 3.0, d("sessdb_sessions_created_total"))
	assert.Equal(t, 3.0, d("sessdb_sessions_live"))
	assert.Equal(t, 1.0, d("sessdb_session_invalid_lookups_total"))
	assert.Equal(t, 1.0, value(after, "sessdb_keys", "db", "0"))
	assert.GreaterOrEqual(t, d("sessdb_commit_batch_records"), 4.0, "each durable write committed")
	assert.GreaterOrEqual(t, d("sessdb_commit_duration_seconds"), 4.0)
	assert.GreaterOrEqual(t, value(after, "sessdb_connected_clients"), 1.0)
	assert.Equal(t, 1.0, value(after, "sessdb_jwt_keys"))
}

// Ensure that /healthz and /readyz answer, that the admin handler is
// mounted, that bodies and requests in flight are capped, and that Shutdown
// lets a request in flight finish.
func TestHTTPAPI_HealthLimitsAndShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin/slow" {
			once.Do(func() { close(entered) })
			<-release
		}
		_, _ = w.Write([]byte("admin " + r.URL.Path))
	})
	f := newFixture(t, func(o *httpapi.Options) {
		o.Admin = admin
		o.MaxConcurrent = 1
		o.MaxBodyBytes = 1024
	})
	resp, body := f.get("/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))
	resp, body = f.get("/readyz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ready\n", string(body))
	_, body = f.get("/admin/page")
	assert.Equal(t, "admin /admin/page", string(body))

	resp, body2 := f.post("/oauth2/introspect", clientID, clientSecret, url.Values{"token": {strings.Repeat("x", 2048)}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, "invalid_request", body2["error"])

	slow := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(f.base + "/admin/slow")
		if err == nil {
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		slow <- resp
	}()
	<-entered
	resp, _ = f.get("/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "over MaxConcurrent")
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- f.api.Shutdown(ctx)
	}()
	require.Eventually(t, func() bool {
		_, err := http.Get(f.base + "/healthz")
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "Shutdown stops accepting")
	close(release)
	require.NoError(t, <-shut)
	r := <-slow
	require.NotNil(t, r, "the request in flight finished")
	assert.Equal(t, http.StatusOK, r.StatusCode)
}

// Ensure that the directives map to Options: addresses from http-bind and
// http-port, clients from http-client, and the RESP side's limits.
func TestHTTPAPI_OptionsFromConfig(t *testing.T) {
	cfg, err := config.Load([]string{"--http-port", "8081", "--http-bind", "127.0.0.1 -::1",
		"--http-client", "a", "0123456789abcdef", "b", "fedcba9876543210", "--maxclients", "77", "--timeout", "30"})
	require.NoError(t, err)
	o := httpapi.OptionsFromConfig(cfg)
	assert.Equal(t, []string{"127.0.0.1:8081", "-[::1]:8081"}, o.Addrs)
	assert.Equal(t, map[string]string{"a": "0123456789abcdef", "b": "fedcba9876543210"}, o.Clients)
	assert.Equal(t, 77, o.MaxConcurrent)
	assert.Equal(t, 30*time.Second, o.IdleTimeout)
	_, err = httpapi.New(o)
	require.Error(t, err, "DB and JWT are required")
}
