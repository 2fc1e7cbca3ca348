package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/config"
	"github.com/sessdb/sessdb/server"
	"github.com/sessdb/sessdb/web"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable clock for the DB and the Manager.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// backend is one Store implementation over a fresh DB with an injected clock.
type backend struct {
	name  string
	store web.Store
	db    *sessdb.DB
	clock *clock
}

var backendNames = []string{"embedded", "resp2", "resp3"}

func openDB(t *testing.T, c *clock) *sessdb.DB {
	t.Helper()
	db, err := sessdb.Open(filepath.Join(t.TempDir(), "sessdb.db"), &sessdb.Options{
		Now:          c.Now,
		ReapInterval: -1,
		Sessions:     sessdb.SessionOptions{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// serve starts an in-process sessdb server over db and returns its address.
func serve(t *testing.T, db *sessdb.DB) string {
	t.Helper()
	cfg, err := config.Load([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", t.TempDir()})
	require.NoError(t, err)
	srv := server.New(cfg, db, nil)
	require.NoError(t, srv.Listen())
	done := make(chan struct{})
	go func() { _ = srv.Serve(); close(done) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return srv.Addr().String()
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	c := newClock()
	db := openDB(t, c)
	b := &backend{name: name, db: db, clock: c}
	switch name {
	case "embedded":
		b.store = web.Embedded(db.Sessions())
	case "resp2", "resp3":
		proto := 2
		if name == "resp3" {
			proto = 3
		}
		rc := redis.NewClient(&redis.Options{Addr: serve(t, db), Protocol: proto, DisableIdentity: true})
		t.Cleanup(func() { _ = rc.Close() })
		b.store = web.RESP(rc)
	default:
		t.Fatalf("unknown backend %s", name)
	}
	return b
}

// forEachBackend runs fn once per Store implementation.
func forEachBackend(t *testing.T, fn func(t *testing.T, b *backend)) {
	for _, name := range backendNames {
		t.Run(name, func(t *testing.T) { fn(t, newBackend(t, name)) })
	}
}

// app is a small application using the Manager, served over TLS.
type app struct {
	m  *web.Manager
	ts *httptest.Server
}

func newApp(t *testing.T, b *backend, opts *web.Options) *app {
	t.Helper()
	o := web.Options{Now: b.clock.Now}
	if opts != nil {
		o = *opts
		o.Now = b.clock.Now
	}
	m := web.New(b.store, &o)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var co sessdb.CreateOptions
		if s := r.FormValue("idle"); s != "" {
			d, err := time.ParseDuration(s)
			require.NoError(t, err)
			co.Idle = d
		}
		if s := r.FormValue("absolute"); s != "" {
			d, err := time.ParseDuration(s)
			require.NoError(t, err)
			co.Absolute = d
		}
		s, err := m.Login(w, r, r.FormValue("user"), co)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %s", s.User, s.ID)
	})
	mux.Handle("GET /me", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := web.Current(r)
		fmt.Fprintf(w, "%s %s", s.User, s.ID)
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, m.Logout(w, r))
		fmt.Fprint(w, "bye")
	})
	mux.Handle("POST /logout-others", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := m.LogoutEverywhere(r)
		require.NoError(t, err)
		fmt.Fprint(w, n)
	})))
	mux.Handle("POST /rotate", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, m.Rotate(w, r, r.FormValue("reauth") == "1"))
		s := web.Current(r)
		fmt.Fprintf(w, "%s %s", s.User, s.ID)
	})))
	mux.Handle("GET /devices", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := m.Sessions(r.Context(), web.User(r))
		require.NoError(t, err)
		for _, s := range list {
			fmt.Fprintf(w, "%s|%s|%s\n", s.ID, s.Meta["ip"], s.Meta["ua"])
		}
	})))
	mux.Handle("POST /revoke-device", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, err := m.RevokeDevice(w, r, r.FormValue("id"))
		require.NoError(t, err)
		fmt.Fprint(w, ok)
	})))
	mux.Handle("POST /form", m.CSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "accepted")
	})))
	mux.Handle("GET /form", m.CSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, web.CSRFToken(r))
	})))
	ts := httptest.NewTLSServer(m.Middleware(mux))
	t.Cleanup(ts.Close)
	return &app{m: m, ts: ts}
}

// browser is an HTTP client with its own cookie jar that does not follow redirects.
type browser struct {
	t   *testing.T
	a   *app
	c   *http.Client
	ua  string
	hdr http.Header
}

func (a *app) browser(t *testing.T, ua string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, a: a, ua: ua, hdr: http.Header{}, c: &http.Client{
		Transport:     a.ts.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the response with its body read.
func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.a.ts.URL+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", b.ua)
	for k, v := range b.hdr {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, string(out)
}

func (b *browser) login(user string, extra ...string) (*http.Response, string) {
	b.t.Helper()
	form := url.Values{"user": {user}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	resp, body := b.do("POST", "/login", form)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, body)
	return resp, body
}

// token returns the session cookie the jar holds, or "".
func (b *browser) token() string {
	u, _ := url.Parse(b.a.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == b.a.m.CookieName() {
			return c.Value
		}
	}
	return ""
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	var found *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == name {
			found = c
		}
	}
	return found
}

// Ensure that Login sets a cookie with the safe defaults whose lifetime is the session's idle timeout.
func TestManager_LoginSetsSafeCookie(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		resp, _ := a.browser(t, "ua").login("alice", "idle", "10m", "absolute", "1h")
		c := cookieNamed(resp, "__Host-sessdb")
		require.NotNil(t, c, "Set-Cookie: %v", resp.Header["Set-Cookie"])
		assert.True(t, c.HttpOnly)
		assert.True(t, c.Secure)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Empty(t, c.Domain)
		assert.NotContains(t, strings.ToLower(c.Raw), "domain=")
		assert.Equal(t, 600, c.MaxAge, c.Raw)
		assert.Len(t, c.Value, 66)
		assert.Len(t, resp.Header["Set-Cookie"], 1, "one session cookie, no CSRF cookie without the CSRF middleware")
	})
}

// Ensure that the cookie's lifetime ends at the absolute deadline when that comes before the idle one.
func TestManager_CookieLifetimeFollowsAbsoluteDeadline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		br := a.browser(t, "ua")
		resp, _ := br.login("alice", "idle", "30m", "absolute", "40m")
		assert.Equal(t, 1800, cookieNamed(resp, "__Host-sessdb").MaxAge)
		b.clock.Advance(25 * time.Minute)
		resp, body := br.do("GET", "/me", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		c := cookieNamed(resp, "__Host-sessdb")
		require.NotNil(t, c, "the middleware renews the cookie as the idle deadline slides")
		assert.Equal(t, 15*60, c.MaxAge, "capped by the absolute deadline")
	})
}

// Ensure that the middleware puts the session in the context and Require redirects requests without one.
func TestManager_MiddlewareAndRequire(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		br := a.browser(t, "ua")
		resp, _ := br.do("GET", "/me?x=1", nil)
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/login?next=%2Fme%3Fx%3D1", resp.Header.Get("Location"))

		_, body := br.login("alice")
		resp, me := br.do("GET", "/me", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, body, me)
		assert.True(t, strings.HasPrefix(me, "alice "))

		// A forged or garbage cookie is no session, and the middleware deletes it.
		other := a.browser(t, "ua")
		u, _ := url.Parse(a.ts.URL)
		other.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-sessdb", Value: br.token()[:23] + strings.Repeat("A", 43)}})
		resp, _ = other.do("GET", "/me", nil)
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		c := cookieNamed(resp, "__Host-sessdb")
		require.NotNil(t, c)
		assert.Negative(t, c.MaxAge)
		assert.Empty(t, other.token())
	})
}

// Ensure that logging in again rotates the token: the cookie changes and the old token is dead.
func TestManager_LoginRotates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		br := a.browser(t, "ua")
		br.login("alice")
		first := br.token()
		br.login("alice")
		second := br.token()
		require.NotEmpty(t, second)
		assert.NotEqual(t, first, second)
		s, err := b.store.Get(context.Background(), first)
		require.NoError(t, err)
		assert.Nil(t, s, "the old token is revoked")
		list, err := b.store.List(context.Background(), "alice")
		require.NoError(t, err)
		assert.Len(t, list, 1, "no leftover session")

		// Logging in as someone else ends the previous user's session too.
		br.login("bob")
		list, err = b.store.List(context.Background(), "alice")
		require.NoError(t, err)
		assert.Empty(t, list)
	})
}

// Ensure that LogoutEverywhere ends the other devices' sessions, which are sent to login on their next request.
func TestManager_LogoutEverywhere(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		laptop, phone, tablet := a.browser(t, "laptop"), a.browser(t, "phone"), a.browser(t, "tablet")
		laptop.login("alice")
		phone.login("alice")
		tablet.login("alice")
		a.browser(t, "bob's").login("bob")

		resp, body := laptop.do("GET", "/devices", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, 3, strings.Count(body, "\n"), body)
		assert.Contains(t, body, "|127.0.0.1|phone\n")

		resp, body = laptop.do("POST", "/logout-others", url.Values{})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "2", body)

		for _, br := range []*browser{phone, tablet} {
			resp, _ = br.do("GET", "/me", nil)
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, br.ua)
			assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"))
		}
		resp, _ = laptop.do("GET", "/me", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		n, err := b.store.List(context.Background(), "bob")
		require.NoError(t, err)
		assert.Len(t, n, 1, "other users are untouched")
	})
}

// Ensure that Logout revokes the session and deletes the cookie.
func TestManager_Logout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		br := a.browser(t, "ua")
		br.login("alice")
		tok := br.token()
		resp, _ := br.do("POST", "/logout", url.Values{})
		c := cookieNamed(resp, "__Host-sessdb")
		require.NotNil(t, c)
		assert.Negative(t, c.MaxAge)
		assert.Empty(t, br.token())
		s, err := b.store.Get(context.Background(), tok)
		require.NoError(t, err)
		assert.Nil(t, s)
	})
}

// Ensure that RevokeDevice ends one listed session by id, and the request's own one like Logout.
func TestManager_RevokeDevice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		laptop, phone := a.browser(t, "laptop"), a.browser(t, "phone")
		laptop.login("alice")
		_, phoneID := phone.login("alice")
		phoneID = strings.Fields(phoneID)[1]
		_, body := laptop.do("POST", "/revoke-device", url.Values{"id": {phoneID}})
		assert.Equal(t, "true", body)
		resp, _ := phone.do("GET", "/me", nil)
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		// An id of another user's session is not revoked.
		bob := a.browser(t, "bob")
		_, bobID := bob.login("bob")
		_, body = laptop.do("POST", "/revoke-device", url.Values{"id": {strings.Fields(bobID)[1]}})
		assert.Equal(t, "false", body)
		resp, _ = bob.do("GET", "/me", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

// Ensure that a session unused for longer than its idle timeout ends, measured by the injected DB clock, and that use slides it.
func TestManager_IdleTimeout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		br := a.browser(t, "ua")
		br.login("alice", "idle", "10m")
		for i := 0; i < 3; i++ { // 27 minutes of activity: the idle deadline slides
			b.clock.Advance(9 * time.Minute)
			resp, _ := br.do("GET", "/me", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "use %d", i)
		}
		b.clock.Advance(10*time.Minute + time.Millisecond)
		resp, _ := br.do("GET", "/me", nil)
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Empty(t, br.token(), "the dead cookie is deleted")
	})
}

// Ensure that Rotate (privilege change) issues a new token and id for the same session, killing the old token.
func TestManager_Rotate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		br := a.browser(t, "ua")
		_, before := br.login("alice")
		old := br.token()
		created := func() time.Time {
			list, err := b.store.List(context.Background(), "alice")
			require.NoError(t, err)
			require.Len(t, list, 1)
			return list[0].Created
		}
		c0 := created()
		b.clock.Advance(time.Minute)
		resp, after := br.do("POST", "/rotate", url.Values{"reauth": {"1"}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.NotEqual(t, before, after)
		assert.True(t, strings.HasPrefix(after, "alice "))
		assert.NotEqual(t, old, br.token())
		assert.True(t, strings.HasPrefix(br.token(), strings.Fields(after)[1]+"."))
		s, err := b.store.Get(context.Background(), old)
		require.NoError(t, err)
		assert.Nil(t, s)
		s, err = b.store.Get(context.Background(), br.token())
		require.NoError(t, err)
		require.NotNil(t, s)
		assert.Equal(t, b.clock.Now().UnixMilli(), s.AuthTime.UnixMilli(), "reauth recorded")
		assert.Equal(t, c0, created(), "the same session, rotated")
	})
}

// Ensure that the CSRF middleware accepts same-origin posts with the token and refuses the others.
func TestManager_CSRF(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, nil)
		br := a.browser(t, "ua")
		resp, token := br.do("GET", "/form", nil)
		c := cookieNamed(resp, "__Host-sessdb-csrf")
		require.NotNil(t, c)
		assert.Equal(t, token, c.Value)
		assert.True(t, c.HttpOnly && c.Secure)
		assert.Equal(t, "/", c.Path)
		assert.Len(t, token, 43)
		_, again := br.do("GET", "/form", nil)
		assert.Equal(t, token, again, "stable until login")

		cases := []struct {
			name   string
			form   url.Values
			header map[string]string
			status int
		}{
			{"token in the form", url.Values{"csrf_token": {token}}, nil, 200},
			{"token in the header", url.Values{}, map[string]string{"X-CSRF-Token": token}, 200},
			{"same-origin fetch metadata", url.Values{"csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
			{"no token", url.Values{}, nil, 403},
			{"wrong token", url.Values{"csrf_token": {token[:42] + "x"}}, nil, 403},
			{"cross-site even with the token", url.Values{"csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"same-site subdomain", url.Values{"csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
			{"foreign Origin", url.Values{"csrf_token": {token}}, map[string]string{"Origin": "https://evil.example"}, 403},
			{"own Origin", url.Values{"csrf_token": {token}}, map[string]string{"Origin": a.ts.URL}, 200},
		}
		for _, tc := range cases {
			br.hdr = http.Header{}
			for k, v := range tc.header {
				br.hdr.Set(k, v)
			}
			resp, body := br.do("POST", "/form", tc.form)
			assert.Equal(t, tc.status, resp.StatusCode, "%s: %s", tc.name, body)
			if tc.status == 200 {
				assert.Equal(t, "accepted", body, tc.name)
			}
		}
		br.hdr = http.Header{}

		// Another browser's token is no good: it must match this browser's cookie.
		other := a.browser(t, "ua")
		_, otherToken := other.do("GET", "/form", nil)
		resp, _ = br.do("POST", "/form", url.Values{"csrf_token": {otherToken}})
		assert.Equal(t, 403, resp.StatusCode)
		// A client without the cookie cannot post at all.
		resp, _ = a.browser(t, "ua").do("POST", "/form", url.Values{"csrf_token": {token}})
		assert.Equal(t, 403, resp.StatusCode)
	})
}

// Ensure that Insecure drops the Secure attribute and the __Host- prefix, and nothing else.
func TestManager_InsecureCookie(t *testing.T) {
	b := newBackend(t, "embedded")
	a := newApp(t, b, &web.Options{Insecure: true})
	resp, _ := a.browser(t, "ua").login("alice")
	c := cookieNamed(resp, "sessdb")
	require.NotNil(t, c)
	assert.False(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
}

// Ensure that both Stores return the same sessions, field by field, for the same operations.
func TestStore_SameResults(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	db := openDB(t, c)
	stores := map[string]web.Store{"embedded": web.Embedded(db.Sessions())}
	for _, proto := range []int{2, 3} {
		rc := redis.NewClient(&redis.Options{Addr: serve(t, db), Protocol: proto, DisableIdentity: true})
		t.Cleanup(func() { _ = rc.Close() })
		stores[fmt.Sprintf("resp%d", proto)] = web.RESP(rc)
	}
	tok, err := stores["embedded"].Create(ctx, "carol", sessdb.CreateOptions{
		Idle: 5 * time.Minute, Absolute: time.Hour, Meta: map[string]string{"ip": "203.0.113.7", "ua": "Firefox"},
	})
	require.NoError(t, err)
	_, err = db.Sessions().Set(tok, map[string]string{"cart": "3"})
	require.NoError(t, err)
	c.Advance(time.Second) // List is oldest first
	noIdle, err := stores["resp3"].Create(ctx, "carol", sessdb.CreateOptions{Idle: -1, Absolute: -1})
	require.NoError(t, err)

	want, err := db.Sessions().Get(tok, false)
	require.NoError(t, err)
	for name, st := range stores {
		got, err := st.Get(ctx, tok)
		require.NoError(t, err, name)
		require.NotNil(t, got, name)
		assert.Equal(t, want.ID, got.ID, name)
		assert.Equal(t, "carol", got.User, name)
		assert.Equal(t, want.Created.UnixMilli(), got.Created.UnixMilli(), name)
		assert.Equal(t, want.AbsoluteDeadline.UnixMilli(), got.AbsoluteDeadline.UnixMilli(), name)
		assert.Equal(t, c.Now().Add(5*time.Minute).UnixMilli(), got.IdleDeadline.UnixMilli(), "%s: Get slides", name)
		assert.Equal(t, c.Now().UnixMilli(), got.LastSeen.UnixMilli(), name)
		assert.Equal(t, want.Meta, got.Meta, name)
		assert.Equal(t, map[string]string{"cart": "3"}, got.Data, name)

		list, err := st.List(ctx, "carol")
		require.NoError(t, err, name)
		require.Len(t, list, 2, name)
		assert.Equal(t, want.ID, list[0].ID, name)
		assert.Equal(t, "carol", list[0].User, name)
		assert.Equal(t, want.Meta, list[0].Meta, name)
		assert.True(t, list[1].IdleDeadline.IsZero() && list[1].AbsoluteDeadline.IsZero(), "%s: no deadlines: %+v", name, list[1])
		assert.True(t, strings.HasPrefix(noIdle, list[1].ID+"."), name)

		missing, err := st.Get(ctx, "not-a-token")
		require.NoError(t, err, name)
		assert.Nil(t, missing, name)
		_, err = st.Rotate(ctx, "not-a-token", 0)
		assert.ErrorIs(t, err, sessdb.ErrNoSession, name)
		assert.ErrorIs(t, st.Reauth(ctx, "not-a-token"), sessdb.ErrNoSession, name)
		ok, err := st.Revoke(ctx, "not-a-token")
		require.NoError(t, err, name)
		assert.False(t, ok, name)
		_, err = st.Create(ctx, "", sessdb.CreateOptions{})
		assert.ErrorIs(t, err, sessdb.ErrInvalidUser, name)
	}
}

// Ensure that a store failure answers 500 without revealing the error, and never lets the request through.
func TestManager_StoreFailureFailsClosed(t *testing.T) {
	c := newClock()
	db := openDB(t, c)
	addr := serve(t, db)
	rc := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rc.Close() })
	b := &backend{name: "resp3", store: web.RESP(rc), db: db, clock: c}
	a := newApp(t, b, nil)
	br := a.browser(t, "ua")
	br.login("alice")
	require.NoError(t, rc.Close())
	resp, body := br.do("GET", "/me", nil)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "session store unavailable\n", body)
}

// Ensure that during a rotation grace the old token still works but never re-sets the cookie over the new one.
func TestManager_RotateGraceDoesNotResendOldToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		a := newApp(t, b, &web.Options{RotateGrace: 10 * time.Second})
		br := a.browser(t, "ua")
		br.login("alice")
		old := br.token()
		resp, _ := br.do("POST", "/rotate", url.Values{})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		newToken := br.token()
		require.NotEqual(t, old, newToken)

		// A request still carrying the old token (in flight during the rotation).
		late := a.browser(t, "ua")
		u, _ := url.Parse(a.ts.URL)
		late.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-sessdb", Value: old}})
		resp, body := late.do("GET", "/me", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "the grace token still reaches the session")
		assert.Equal(t, "alice "+strings.SplitN(newToken, ".", 2)[0], body)
		assert.Nil(t, cookieNamed(resp, "__Host-sessdb"), "no Set-Cookie with the old token")

		resp, _ = br.do("GET", "/me", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		c := cookieNamed(resp, "__Host-sessdb")
		require.NotNil(t, c)
		assert.Equal(t, newToken, c.Value, "the new token is refreshed")
	})
}
