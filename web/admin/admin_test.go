package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessdb/sessdb"
	"github.com/sessdb/sessdb/web/admin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fixture struct {
	t    *testing.T
	db   *sessdb.DB
	srv  *httptest.Server
	cmds int64
}

func newFixture(t *testing.T, mount func(h http.Handler) http.Handler) *fixture {
	t.Helper()
	db, err := sessdb.Open(filepath.Join(t.TempDir(), "s.db"), &sessdb.Options{ReapInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	f := &fixture{t: t, db: db}
	h := admin.New(admin.Options{
		Sessions:     db.Sessions(),
		Authenticate: func(u, p string) bool { return u == "op" && p == "pw" },
		Counters: func() admin.Counters {
			st := db.Sessions().Stats()
			return admin.Counters{Sessions: st.Live, Users: st.Users, Commands: f.cmds}
		},
	})
	if mount != nil {
		h = mount(h)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	require.NoError(f.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth("op", "pw")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (f *fixture) csrf(user string) string {
	f.t.Helper()
	_, body := f.do("GET", "/admin/?user="+url.QueryEscape(user), nil, nil)
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(f.t, m, body)
	return m[1]
}

// Ensure that every admin path needs valid Basic credentials.
func TestAdmin_RequiresAuthentication(t *testing.T) {
	f := newFixture(t, nil)
	for _, path := range []string{"/admin/", "/admin/counters.json", "/admin/admin.js", "/admin/revoke"} {
		for _, auth := range []string{"", "Basic " + "b3A6d3Jvbmc="} { // op:wrong
			resp, _ := f.do("GET", path, nil, map[string]string{"Authorization": auth})
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
			assert.Equal(t, `Basic realm="sessdb admin", charset="UTF-8"`, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// No Authenticate func refuses everyone.
	db, err := sessdb.Open(filepath.Join(t.TempDir(), "s.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/admin/", nil)
	req.SetBasicAuth("op", "pw")
	admin.New(admin.Options{Sessions: db.Sessions()}).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

// Ensure that a search lists the user's sessions with device, IP, times and deadlines, under a strict CSP.
func TestAdmin_SearchListsSessions(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	_, err := f.db.Sessions().Create(ctx, "alice", sessdb.CreateOptions{Meta: map[string]string{"ip": "203.0.113.9", "ua": "Firefox/140 <script>"}})
	require.NoError(t, err)
	_, err = f.db.Sessions().Create(ctx, "bob", sessdb.CreateOptions{})
	require.NoError(t, err)
	resp, body := f.do("GET", "/admin/?user=alice", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, admin.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Contains(t, body, "Sessions of alice (1)")
	assert.Contains(t, body, "203.0.113.9")
	assert.Contains(t, body, "Firefox/140 &lt;script&gt;", "escaped")
	assert.NotContains(t, body, "<script>")
	assert.Equal(t, 4, strings.Count(body, " UTC ("), "created, last seen, idle and absolute deadlines")
	_, body = f.do("GET", "/admin/?user=nobody", nil, nil)
	assert.Contains(t, body, "No live sessions.")
}

// Ensure that revoking one session and then all of them works with the CSRF token, and not without it.
func TestAdmin_Revoke(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	s := f.db.Sessions()
	t1, err := s.Create(ctx, "alice", sessdb.CreateOptions{})
	require.NoError(t, err)
	_, err = s.Create(ctx, "alice", sessdb.CreateOptions{})
	require.NoError(t, err)
	_, err = s.Create(ctx, "alice", sessdb.CreateOptions{})
	require.NoError(t, err)
	id1 := strings.SplitN(t1, ".", 2)[0]
	token := f.csrf("alice")

	for name, tc := range map[string]struct {
		form url.Values
		hdr  map[string]string
	}{
		"no token":       {url.Values{"user": {"alice"}, "id": {id1}}, nil},
		"wrong token":    {url.Values{"user": {"alice"}, "id": {id1}, "csrf_token": {token + "x"}}, nil},
		"cross-site":     {url.Values{"user": {"alice"}, "id": {id1}, "csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"foreign origin": {url.Values{"user": {"alice"}, "id": {id1}, "csrf_token": {token}}, map[string]string{"Origin": "http://evil.example"}},
		"garbage token":  {url.Values{"user": {"alice"}, "id": {id1}, "csrf_token": {"AAAA"}}, nil},
	} {
		resp, _ := f.do("POST", "/admin/revoke", tc.form, tc.hdr)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
	}
	n, _ := s.Count("alice")
	require.Equal(t, 3, n, "nothing revoked")

	resp, _ := f.do("GET", "/admin/revoke", nil, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	resp, _ = f.do("POST", "/admin/revoke", url.Values{"user": {"alice"}, "id": {id1}, "csrf_token": {token}},
		map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": f.srv.URL})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "/admin/", loc.Path)
	assert.Equal(t, "alice", loc.Query().Get("user"))
	assert.Equal(t, "Revoked session "+id1+".", loc.Query().Get("msg"))
	got, err := s.Get(t1, false)
	require.NoError(t, err)
	assert.Nil(t, got)
	n, _ = s.Count("alice")
	assert.Equal(t, 2, n)

	resp, _ = f.do("POST", "/admin/revoke-all", url.Values{"user": {"alice"}, "csrf_token": {token}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Location"), url.QueryEscape("Revoked 2 sessions of alice."))
	n, _ = s.Count("alice")
	assert.Zero(t, n)

	resp, _ = f.do("POST", "/admin/revoke", url.Values{"user": {strings.Repeat("u", 513)}, "id": {"x"}, "csrf_token": {token}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "size limits")
}

// Ensure that counters.json reports the counters with a timestamp, and the page embeds them.
func TestAdmin_Counters(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.db.Sessions().Create(context.Background(), "alice", sessdb.CreateOptions{})
	require.NoError(t, err)
	f.cmds = 1234
	before := time.Now().UnixMilli()
	resp, body := f.do("GET", "/admin/counters.json", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var c struct {
		Sessions, Users, Commands, At int64
	}
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	assert.Equal(t, int64(1), c.Sessions)
	assert.Equal(t, int64(1), c.Users)
	assert.Equal(t, int64(1234), c.Commands)
	assert.GreaterOrEqual(t, c.At, before)

	resp, body = f.do("GET", "/admin/admin.js", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, "counters")
}

// Ensure that the handler also works behind http.StripPrefix, and 404s unknown paths.
func TestAdmin_Mounting(t *testing.T) {
	f := newFixture(t, func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/admin/", http.StripPrefix("/admin", h))
		return mux
	})
	resp, body := f.do("GET", "/admin/", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `href="/admin/admin.css"`)
	resp, _ = f.do("GET", "/admin/admin.css", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = f.do("GET", "/admin/nope", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// Ensure that an address is refused for the rest of the minute after 10 failed sign-ins, and only that address.
func TestAdmin_FailedSignInsThrottled(t *testing.T) {
	db, err := sessdb.Open(filepath.Join(t.TempDir(), "s.db"), &sessdb.Options{ReapInterval: -1})
	require.NoError(t, err)
	defer db.Close()
	now := time.Unix(1_800_000_000, 0)
	h := admin.New(admin.Options{
		Sessions:     db.Sessions(),
		Authenticate: func(u, p string) bool { return u == "op" && p == "pw" },
		Now:          func() time.Time { return now },
	})
	try := func(addr, pass string) int {
		req := httptest.NewRequest("GET", "/admin/", nil)
		req.RemoteAddr = addr + ":5555"
		req.SetBasicAuth("op", pass)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := 0; i < 10; i++ {
		require.Equal(t, http.StatusUnauthorized, try("192.0.2.1", "guess"), "attempt %d", i)
	}
	assert.Equal(t, http.StatusTooManyRequests, try("192.0.2.1", "pw"), "even the right password")
	assert.Equal(t, http.StatusOK, try("192.0.2.2", "pw"), "another address")
	now = now.Add(time.Minute)
	assert.Equal(t, http.StatusOK, try("192.0.2.1", "pw"), "a minute later")
}
